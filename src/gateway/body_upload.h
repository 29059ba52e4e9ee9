// A request body streamed into pieces of a put as it arrives: a piece-sized pooled buffer is
// filled from the body and appended to extents while the next fills from the socket, so a
// gateway holds two pieces per upload whatever the object's size, and the disk and the socket
// work at the same time. The MD5 (the ETag and Content-MD5) is computed on the way, a chunk at a
// time as it arrives; a gateway may look at every byte too (S3 checks a SHA-256). Nothing is
// committed here.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "client/client_core.h"

namespace cerulean::gateway {

// Where body bytes come from: the HTTP body as sent, or decoded (S3's aws-chunked).
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Bytes into `into`: how many, 0 at the end.
  virtual Task<Result<size_t>> Read(std::span<std::byte> into) = 0;
};

struct ReceivedBody {
  client::UploadResult upload;  // pieces appended, in order
  uint64_t size = 0;
  std::string md5;  // 16 raw bytes
  Status status;    // not ok: nothing may be committed
  bool client_failed = false;  // the status is the client's doing (a cut, stalled or bad body)

  // The content's ETag as S3 and Azure give it: "\"<md5 hex>\"".
  std::string etag() const;
};

struct BodyUploadOptions {
  uint64_t piece_bytes = 8ull << 20;
  uint64_t size_max = UINT64_MAX;  // a body past this fails with OutOfRange
  std::function<void(std::span<const std::byte>)> observe;  // sees every byte, in order
};

Task<ReceivedBody> ReceiveIntoPieces(client::ClientCore& objects, const std::string& container, const std::string& name,
                                     BodySource& body, const BodyUploadOptions& options);

}  // namespace cerulean::gateway
