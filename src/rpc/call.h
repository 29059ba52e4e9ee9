// The caller's side of one rpc: options and the successful result. Value types.
#pragma once

#include <optional>
#include <span>

#include "base/buffer_pool.h"
#include "base/time.h"
#include "rpc/wire.h"
#include "runtime/cancellation.h"

namespace cerulean::rpc {

struct CallOptions {
  Duration timeout = std::chrono::seconds(30);
  CancelToken cancel;
  // Where the response payload goes, if the caller has a buffer for it: the bytes are received
  // straight into it. A larger payload fails the call with OutOfRange. Empty: the payload lands
  // in CallResult::payload.
  std::span<std::byte> response_payload;
  // The request payload's CRC32C, if the caller already knows it for these exact bytes (it
  // checked them on arrival); the frame carries it without another pass over the payload.
  std::optional<uint32_t> payload_crc;
};

struct CallResult {
  MessageBuffer message;     // the response's control message
  size_t payload_bytes = 0;  // written to CallOptions::response_payload, or held in `payload`
  uint32_t payload_crc = 0;  // the payload's CRC32C, checked against its bytes on arrival
  PooledBuffer payload;
};

}  // namespace cerulean::rpc
