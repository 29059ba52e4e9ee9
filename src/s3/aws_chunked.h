// AwsChunkedDecoder: the body of a request signed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD
// ("aws-chunked"): chunks of "<hex size>;chunk-signature=<sig>\r\n<data>\r\n", ending with a
// chunk of size 0. Each chunk's signature chains on the previous one, from the request's own
// signature (the seed), so a chunk changed, dropped or reordered fails. Bytes are decoded as
// they arrive; a chunk's data is handed on before its signature is checked at the chunk's end,
// so the caller must not commit anything until Finish() is Ok. Pure; single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cerulean::s3 {

class AwsChunkedDecoder {
 public:
  // `scope` is "<date>/<region>/<service>/aws4_request".
  AwsChunkedDecoder(std::string signing_key, std::string amz_date, std::string scope, std::string seed_signature);
  ~AwsChunkedDecoder();

  // Decodes `in`, appending payload bytes to `out`. InvalidArgument when malformed,
  // PermissionDenied when a chunk's signature does not match.
  Status Feed(std::string_view in, std::string& out);
  // Ok once the final chunk has arrived and verified.
  Status Finish() const;
  uint64_t decoded_bytes() const { return decoded_; }

 private:
  enum class State { kHeader, kData, kDataEnd, kDone };
  Status EndChunk();

  std::string signing_key_, amz_date_, scope_, previous_signature_;
  State state_ = State::kHeader;
  std::string line_;  // the header line, or the CRLF after data, as it accumulates
  uint64_t chunk_left_ = 0;
  uint64_t chunk_bytes_ = 0;
  std::string chunk_signature_;
  struct Sha;
  std::unique_ptr<Sha> sha_;
  uint64_t decoded_ = 0;
};

}  // namespace cerulean::s3
