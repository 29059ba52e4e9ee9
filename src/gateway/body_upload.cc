#include "gateway/body_upload.h"

#include <vector>

#include <fmt/format.h>

#include "base/buffer_pool.h"
#include "base/crc32c.h"
#include "base/md5.h"
#include "runtime/when_all.h"

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

namespace {

// What one step of the upload did: a fill of a piece (its bytes and their CRC), or an append
// (its status only). One type, so that the two can run together in WhenAll.
struct Fill {
  size_t bytes = 0;
  uint32_t crc = 0;  // of the bytes, for the append
  Status status;
  bool client_failed = false;
};

// One piece's worth of body (less at its end) into `piece`, each chunk hashed as it arrives,
// while it is still in the cache.
Task<Fill> FillPiece(BodySource& body, std::span<std::byte> piece, Md5& md5, const BodyUploadOptions& options,
                     uint64_t* received_size) {
  Fill fill;
  while (fill.bytes < piece.size()) {
    Result<size_t> n = co_await body.Read(piece.subspan(fill.bytes));
    if (!n.ok()) {
      fill.status = n.status();
      fill.client_failed = true;
      break;
    }
    if (*n == 0) break;
    const std::span<const std::byte> chunk = piece.subspan(fill.bytes, *n);
    fill.bytes += *n;
    *received_size += *n;
    if (*received_size > options.size_max) {
      fill.status = Status::OutOfRange(fmt::format("the body is over {} bytes", options.size_max));
      fill.client_failed = true;
      break;
    }
    md5.Update(chunk);
    fill.crc = Crc32c(chunk, fill.crc);
    if (options.observe) options.observe(chunk);
  }
  co_return fill;
}

Task<Fill> AppendFilled(client::ClientCore& objects, ReceivedBody& received, std::span<const std::byte> bytes,
                        uint32_t crc) {
  Fill done;
  auto appended = co_await objects.AppendPiece(received.upload.session, bytes, crc);
  if (appended.ok()) {
    received.upload.pieces.push_back(*appended);
  } else {
    done.status = appended.status();
  }
  co_return done;
}

}  // namespace

Task<ReceivedBody> ReceiveIntoPieces(client::ClientCore& objects, const std::string& container, const std::string& name,
                                     BodySource& body, const BodyUploadOptions& options) {
  ReceivedBody received;
  Md5 md5;
  // Two pooled pieces (not fresh zero-filled vectors: a small put must not memset 8 MiB): one is
  // appended to the extents while the next fills from the socket.
  PooledBuffer pieces[2] = {PooledBuffer::Allocate(options.piece_bytes), PooledBuffer()};
  size_t current = 0;
  Fill fill = co_await FillPiece(body, pieces[0].span(), md5, options, &received.size);
  while (fill.status.ok() && fill.bytes > 0) {
    if (received.upload.session == nullptr) {
      auto session = co_await objects.BeginPut(container, name);
      if (!session.ok()) {
        received.status = session.status();
        break;
      }
      received.upload.session = *session;
    }
    const std::span<const std::byte> ready = pieces[current].span().first(fill.bytes);
    if (fill.bytes < pieces[current].size()) {  // the body's end
      fill = co_await AppendFilled(objects, received, ready, fill.crc);
      break;
    }
    if (pieces[1 - current].empty()) pieces[1 - current] = PooledBuffer::Allocate(options.piece_bytes);
    std::vector<Task<Fill>> both;
    both.push_back(AppendFilled(objects, received, ready, fill.crc));
    both.push_back(FillPiece(body, pieces[1 - current].span(), md5, options, &received.size));
    std::vector<Fill> done = co_await WhenAll(std::move(both));
    if (!done[0].status.ok()) {  // the append's failure is the one to report
      fill = std::move(done[0]);
      break;
    }
    fill = std::move(done[1]);
    current = 1 - current;
  }
  if (received.status.ok()) {
    received.status = fill.status;
    received.client_failed = fill.client_failed;
  }
  received.md5 = md5.Finish();
  co_return received;
}

}  // namespace cerulean::gateway
