// RpcContext: one request being served, as a handler sees it: the request's control message and
// payload, a cancel token, and the response it fills in. The server owns it (one per request
// slot, reused) and keeps it alive until the response has been written.
#pragma once

#include <sys/uio.h>

#include <memory>
#include <string_view>
#include <optional>
#include <vector>

#include "base/buffer_pool.h"
#include "rpc/wire.h"
#include "runtime/cancellation.h"
#include "runtime/env.h"

namespace cerulean::rpc {

struct RpcContext {
  Env* env = nullptr;
  uint32_t method = 0;
  uint64_t request_id = 0;
  std::string_view peer;
  // The caller's budget; cancel fires at it, on a cancel frame from the client, or at shutdown.
  TimePoint deadline = TimePoint::Max();
  CancelToken cancel;

  MessageBuffer request_message;
  PooledBuffer request_payload;  // a handler may move it out (to write it to disk, say)
  // The payload's CRC32C, checked against its bytes on arrival: a handler that sends the same
  // bytes on (a chain head) passes it in CallOptions::payload_crc instead of computing it again.
  uint32_t request_payload_crc = 0;
  // False only for methods registered with handler_checks_payload_crc: the bytes have not been
  // checked against request_payload_crc yet, and the handler must before it trusts them.
  bool request_payload_verified = true;

  MessageBuffer response_message;
  // Bytes sent after the response message, not copied; they must stay valid until the
  // response is written, e.g. by pointing into response_payload_owner.
  std::vector<iovec> response_payload;
  PooledBuffer response_payload_owner;
  // More owners, when the response gathers bytes from several buffers (a vectorised read).
  std::vector<PooledBuffer> response_payload_owners;
  // Anything else that must live until the response is written (a KV value's hold on the
  // memory it is sent from).
  std::vector<std::shared_ptr<const void>> response_payload_holds;
  // The response payload's CRC32C, if the handler knows it for these exact bytes (a storage
  // read derives it from the checksums it verified); otherwise the server computes it.
  std::optional<uint32_t> response_payload_crc;
  // True when the handler has just checked the bytes against that CRC (a storage read verifies
  // what it read): a local call, with no wire in between, takes it without another pass.
  bool response_payload_verified = false;

  void Reset() {
    request_message.Clear();
    request_payload = PooledBuffer();
    request_payload_crc = 0;
    request_payload_verified = true;
    response_message.Clear();
    response_payload.clear();
    response_payload_owner = PooledBuffer();
    response_payload_owners.clear();
    response_payload_holds.clear();
    response_payload_crc.reset();
    response_payload_verified = false;
  }
};

}  // namespace cerulean::rpc
