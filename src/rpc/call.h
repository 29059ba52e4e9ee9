// The caller's side of one rpc: options and the successful result. Value types.
#pragma once

#include <sys/uio.h>

#include <functional>
#include <optional>
#include <span>
#include <vector>

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
  // Or, decided once the response's control message is in: the buffers the payload is received
  // into, in order, which must add up to its size exactly (anything else, or an empty list,
  // receives it into CallResult::payload). Called on the connection's loop, before the call
  // returns, so it may refer to the caller's locals.
  std::function<std::vector<iovec>(std::span<const std::byte> message, size_t payload_bytes)> response_payload_layout;
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
