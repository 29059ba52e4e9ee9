#include "http/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace cerulean::http {
namespace {

std::string OpenSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "unknown TLS error" : text;
}

constexpr size_t kChunkBytes = 64 << 10;

class TlsStream : public Stream {
 public:
  TlsStream(std::unique_ptr<Stream> inner, SSL* ssl)
      : inner_(std::move(inner)), ssl_(ssl), incoming_(kChunkBytes), outgoing_(kChunkBytes) {
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);  // an empty input BIO means "wait for more", not EOF
    SSL_set_bio(ssl_, in, out);       // the SSL owns both
    in_ = in;
    out_ = out;
    SSL_set_accept_state(ssl_);
  }
  ~TlsStream() override { SSL_free(ssl_); }

  Task<Result<size_t>> Read(std::span<const iovec> buffers, CancelToken cancel) override {
    const iovec* target = nullptr;
    for (const iovec& buffer : buffers) {
      if (buffer.iov_len > 0) {
        target = &buffer;
        break;
      }
    }
    if (target == nullptr) co_return size_t{0};
    while (true) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, target->iov_base, static_cast<int>(std::min<size_t>(target->iov_len, INT32_MAX)));
      if (n > 0) co_return static_cast<size_t>(n);
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_ZERO_RETURN) co_return size_t{0};  // the peer's close_notify
      if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
        co_return Status::Unavailable(fmt::format("TLS read from {}: {}", inner_->peer(), OpenSslErrors()));
      }
      // The handshake, or a record not yet whole: send what OpenSSL has to say, then read more.
      CO_RETURN_IF_ERROR(co_await Flush(cancel));
      if (error == SSL_ERROR_WANT_READ) {
        CO_ASSIGN_OR_RETURN(bool more, co_await Fill(cancel));
        if (!more) co_return size_t{0};  // the peer closed without close_notify
      }
    }
  }

  Task<Status> Write(std::span<iovec> buffers, CancelToken cancel) override {
    for (iovec& buffer : buffers) {
      while (buffer.iov_len > 0) {
        ERR_clear_error();
        const size_t part = std::min(buffer.iov_len, kChunkBytes);
        const int n = SSL_write(ssl_, buffer.iov_base, static_cast<int>(part));
        if (n <= 0) {
          const int error = SSL_get_error(ssl_, n);
          if (error == SSL_ERROR_WANT_READ) {  // still in the handshake
            CO_RETURN_IF_ERROR(co_await Flush(cancel));
            CO_ASSIGN_OR_RETURN(bool more, co_await Fill(cancel));
            if (!more) co_return Status::Unavailable("TLS peer closed during the handshake");
            continue;
          }
          if (error == SSL_ERROR_WANT_WRITE) {
            CO_RETURN_IF_ERROR(co_await Flush(cancel));
            continue;
          }
          co_return Status::Unavailable(fmt::format("TLS write to {}: {}", inner_->peer(), OpenSslErrors()));
        }
        buffer.iov_base = static_cast<std::byte*>(buffer.iov_base) + n;
        buffer.iov_len -= static_cast<size_t>(n);
        CO_RETURN_IF_ERROR(co_await Flush(cancel));  // a chunk at a time: bounded memory
      }
    }
    co_return Status::Ok();
  }

  void Shutdown() override { inner_->Shutdown(); }
  std::string peer() const override { return inner_->peer(); }

 private:
  // Sends the ciphertext OpenSSL has produced.
  Task<Status> Flush(CancelToken cancel) {
    while (BIO_ctrl_pending(out_) > 0) {
      const int n = BIO_read(out_, outgoing_.data(), static_cast<int>(outgoing_.size()));
      if (n <= 0) break;
      iovec part{outgoing_.data(), static_cast<size_t>(n)};
      CO_RETURN_IF_ERROR(co_await inner_->Write(std::span(&part, 1), cancel));
    }
    co_return Status::Ok();
  }

  // Hands OpenSSL the next ciphertext from the socket; false at its end.
  Task<Result<bool>> Fill(CancelToken cancel) {
    iovec part{incoming_.data(), incoming_.size()};
    CO_ASSIGN_OR_RETURN(size_t n, co_await inner_->Read(std::span(&part, 1), cancel));
    if (n == 0) co_return false;
    BIO_write(in_, incoming_.data(), static_cast<int>(n));
    co_return true;
  }

  std::unique_ptr<Stream> inner_;
  SSL* ssl_;
  BIO* in_ = nullptr;
  BIO* out_ = nullptr;
  // Separate buffers: a Read's Fill and a Write's Flush may be outstanding at once. (Two
  // Flushes at once could interleave records; the HTTP server never writes twice at once.)
  std::vector<std::byte> incoming_;
  std::vector<std::byte> outgoing_;
};

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::Load(const std::string& certificate_file, const std::string& key_file) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) return Status::Internal(fmt::format("TLS: {}", OpenSslErrors()));
  std::shared_ptr<TlsContext> tls(new TlsContext(context));
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
  if (SSL_CTX_use_certificate_chain_file(context, certificate_file.c_str()) != 1) {
    return Status::InvalidArgument(fmt::format("TLS certificate {}: {}", certificate_file, OpenSslErrors()));
  }
  if (SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument(fmt::format("TLS key {}: {}", key_file, OpenSslErrors()));
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    return Status::InvalidArgument(fmt::format("TLS key {} does not match certificate {}", key_file, certificate_file));
  }
  return tls;
}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

std::unique_ptr<Stream> TlsContext::Accept(std::unique_ptr<Stream> stream) const {
  return std::make_unique<TlsStream>(std::move(stream), SSL_new(context_));
}

}  // namespace cerulean::http
