#include "gateway/body_upload.h"

#include <fmt/format.h>

#include "base/buffer_pool.h"
#include "base/md5.h"

namespace cerulean::gateway {

std::string ReceivedBody::etag() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text = "\"";
  for (unsigned char byte : md5) {
    text += kDigits[byte >> 4];
    text += kDigits[byte & 15];
  }
  return text + "\"";
}

Task<ReceivedBody> ReceiveIntoPieces(client::ClientCore& objects, const std::string& container, const std::string& name,
                                     BodySource& body, const BodyUploadOptions& options) {
  ReceivedBody received;
  Md5 md5;
  // Pooled, not a fresh zero-filled vector: a small put must not memset 8 MiB.
  PooledBuffer piece = PooledBuffer::Allocate(options.piece_bytes);
  while (received.status.ok()) {
    size_t filled = 0;
    while (filled < piece.size()) {
      Result<size_t> n = co_await body.Read(piece.span().subspan(filled));
      if (!n.ok()) {
        received.status = n.status();
        received.client_failed = true;
        break;
      }
      if (*n == 0) break;
      filled += *n;
    }
    if (!received.status.ok() || filled == 0) break;
    const std::span<const std::byte> bytes = piece.span().first(filled);
    received.size += filled;
    if (received.size > options.size_max) {
      received.status = Status::OutOfRange(fmt::format("the body is over {} bytes", options.size_max));
      received.client_failed = true;
      break;
    }
    md5.Update(bytes);
    if (options.observe) options.observe(bytes);
    if (received.upload.session == nullptr) {
      auto session = co_await objects.BeginPut(container, name);
      if (!session.ok()) {
        received.status = session.status();
        break;
      }
      received.upload.session = *session;
    }
    auto appended = co_await objects.AppendPiece(received.upload.session, bytes);
    if (!appended.ok()) {
      received.status = appended.status();
      break;
    }
    received.upload.pieces.push_back(*appended);
    if (filled < piece.size()) break;
  }
  received.md5 = md5.Finish();
  co_return received;
}

}  // namespace cerulean::gateway
