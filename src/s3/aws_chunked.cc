#include "s3/aws_chunked.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fmt/format.h>

#include "s3/sigv4.h"

namespace cerulean::s3 {
namespace {

constexpr uint64_t kChunkBytesMax = 64ull << 20;
constexpr size_t kHeaderBytesMax = 256;
// The SHA-256 of no bytes: the chunk string to sign has it where a header hash would go.
constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

struct AwsChunkedDecoder::Sha {
  Sha() : context(EVP_MD_CTX_new()) { Reset(); }
  ~Sha() { EVP_MD_CTX_free(context); }
  void Reset() { EVP_DigestInit_ex(context, EVP_sha256(), nullptr); }
  std::string HexFinal() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context, digest, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; i++) {
      hex += kHex[digest[i] >> 4];
      hex += kHex[digest[i] & 15];
    }
    Reset();
    return hex;
  }
  EVP_MD_CTX* context;
};

AwsChunkedDecoder::AwsChunkedDecoder(std::string signing_key, std::string amz_date, std::string scope,
                                     std::string seed_signature)
    : signing_key_(std::move(signing_key)), amz_date_(std::move(amz_date)), scope_(std::move(scope)),
      previous_signature_(std::move(seed_signature)), sha_(std::make_unique<Sha>()) {}

AwsChunkedDecoder::~AwsChunkedDecoder() = default;

Status AwsChunkedDecoder::Feed(std::string_view in, std::string& out) {
  while (!in.empty()) {
    switch (state_) {
      case State::kHeader: {
        const size_t newline = in.find('\n');
        line_.append(in.substr(0, newline == std::string_view::npos ? in.size() : newline + 1));
        in.remove_prefix(newline == std::string_view::npos ? in.size() : newline + 1);
        if (line_.size() > kHeaderBytesMax) return Status::InvalidArgument("an aws-chunked chunk header is too long");
        if (newline == std::string_view::npos) break;
        // "<hex size>;chunk-signature=<64 hex digits>\r\n"
        constexpr std::string_view kField = ";chunk-signature=";
        const size_t field = line_.find(kField);
        if (!line_.ends_with("\r\n") || field == std::string::npos || field == 0 || field > 16) {
          return Status::InvalidArgument(fmt::format("malformed aws-chunked chunk header '{}'", line_.substr(0, 80)));
        }
        uint64_t size = 0;
        for (size_t i = 0; i < field; i++) {
          const char c = line_[i];
          const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
          if (digit < 0) return Status::InvalidArgument("an aws-chunked chunk size is not hexadecimal");
          size = size * 16 + static_cast<uint64_t>(digit);
        }
        if (size > kChunkBytesMax) return Status::InvalidArgument(fmt::format("an aws-chunked chunk of {} bytes", size));
        chunk_signature_ = line_.substr(field + kField.size(), line_.size() - 2 - field - kField.size());
        if (chunk_signature_.size() != 64) return Status::InvalidArgument("an aws-chunked chunk signature is not 64 hex digits");
        chunk_left_ = chunk_bytes_ = size;
        line_.clear();
        state_ = size == 0 ? State::kDataEnd : State::kData;
        break;
      }
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, in.size()));
        EVP_DigestUpdate(sha_->context, in.data(), n);
        out.append(in.substr(0, n));
        decoded_ += n;
        chunk_left_ -= n;
        in.remove_prefix(n);
        if (chunk_left_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        const size_t n = std::min<size_t>(2 - line_.size(), in.size());
        line_.append(in.substr(0, n));
        in.remove_prefix(n);
        if (line_.size() < 2) break;
        if (line_ != "\r\n") return Status::InvalidArgument("an aws-chunked chunk does not end with CRLF");
        line_.clear();
        RETURN_IF_ERROR(EndChunk());
        break;
      }
      case State::kDone:
        return Status::InvalidArgument("bytes after the final aws-chunked chunk");
    }
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::EndChunk() {
  const std::string string_to_sign = fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", amz_date_, scope_,
                                                 previous_signature_, kEmptySha256, sha_->HexFinal());
  const std::string expected = HmacSha256Hex(signing_key_, string_to_sign);
  if (CRYPTO_memcmp(expected.data(), chunk_signature_.data(), expected.size()) != 0) {
    return Status::PermissionDenied("an aws-chunked chunk's signature does not match");
  }
  previous_signature_ = chunk_signature_;
  state_ = chunk_bytes_ == 0 ? State::kDone : State::kHeader;
  return Status::Ok();
}

Status AwsChunkedDecoder::Finish() const {
  if (state_ != State::kDone) return Status::InvalidArgument("the aws-chunked body ended before its final chunk");
  return Status::Ok();
}

}  // namespace cerulean::s3
