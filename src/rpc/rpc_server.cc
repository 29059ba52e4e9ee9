#include "rpc/rpc_server.h"

#include <cstring>

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/logging.h"
#include "rpc/local_calls.h"
#include "rpc/rpc_metrics.h"
#include "rpc/server_connection.h"
#include "runtime/deadline.h"
#include "runtime/sleep.h"

namespace cerulean::rpc {

RpcServer::RpcServer(Env& env, const ServiceRegistry& registry, RpcServerOptions options)
    : env_(env),
      registry_(registry),
      options_(options),
      connection_tasks_(env),
      payload_bytes_(env, options.request_payload_bytes_inflight_max),
      serve_finished_(env),
      local_calls_idle_(env) {
  local_calls_idle_.Set();
  CHECK(options_.limits.payload_bytes_max <= options_.request_payload_bytes_inflight_max)
      << "a single payload must fit the server's payload budget";
}

RpcServer::~RpcServer() {
  CHECK(!serving_) << "destroying a server that is still serving";
  CHECK(local_calls_in_flight_ == 0) << "destroying a server with local calls in flight";
  if (listener_ != nullptr) local_calls::Withdraw(env_, listener_->address(), *this);
}

Status RpcServer::Listen(const NetAddress& address) {
  auto listener = env_.Listen(address);
  if (!listener.ok()) return listener.status();
  listener_ = std::move(*listener);
  local_calls::Offer(env_, listener_->address(), *this);
  LOG_INFO("rpc server listening address={}", listener_->address().ToString());
  return Status::Ok();
}

NetAddress RpcServer::address() const { return listener_->address(); }

Task<void> RpcServer::Serve() {
  CHECK(listener_ != nullptr) << "Listen() first";
  serving_ = true;
  while (!shutting_down_) {
    auto stream = co_await listener_->Accept({});
    if (!stream.ok()) {
      if (shutting_down_) break;
      // Out of file descriptors and the like: back off rather than spin.
      LOG_WARN("rpc accept failed address={} error={}", listener_->address().ToString(), stream.status());
      Status slept = co_await Sleep(env_, std::chrono::milliseconds(10));
      (void)slept;
      continue;
    }
    if (shutting_down_) {  // accepted in the same instant as Close(): refuse it
      (*stream)->Shutdown();
      break;
    }
    if (connections_.size() >= options_.connections_max) {
      LOG_WARN("rpc connection refused peer={} reason=connections_max {}", (*stream)->peer(),
               options_.connections_max);
      (*stream)->Shutdown();
      continue;
    }
    RpcMetrics::Get().server_connections_accepted.Increment();
    const uint64_t id = next_connection_id_++;
    auto connection =
        std::make_shared<ServerConnection>(env_, std::move(*stream), registry_, options_, payload_bytes_);
    connections_.emplace(id, connection);
    connection_tasks_.Spawn(RunConnection(id, std::move(connection)));
  }
  co_await connection_tasks_.Join();
  serving_ = false;
  serve_finished_.Set();
}

Task<void> RpcServer::RunConnection(uint64_t id, std::shared_ptr<ServerConnection> connection) {
  RpcMetrics::Get().server_connections_open.Add(1);
  co_await connection->Run();
  RpcMetrics::Get().server_connections_open.Add(-1);
  connections_.erase(id);
}

Task<void> RpcServer::Shutdown() {
  if (shutting_down_) co_return;
  shutting_down_ = true;
  local_calls::Withdraw(env_, listener_->address(), *this);  // new calls go to the socket, and fail
  LOG_INFO("rpc server draining address={} connections={}", listener_->address().ToString(),
           connections_.size());
  listener_->Close();
  for (auto& [id, connection] : connections_) connection->StopReading();
  {
    Deadline drain(env_, options_.drain_timeout);
    Status drained = co_await connection_tasks_.JoinUntil(drain.token());
    if (!drained.ok()) {
      LOG_WARN("rpc server drain timed out; cancelling {} connections", connections_.size());
      for (auto& [id, connection] : connections_) connection->CancelHandlers();
    }
  }
  co_await connection_tasks_.Join();
  if (local_calls_in_flight_ > 0) {
    Status idle = co_await local_calls_idle_.Wait();
    CHECK(idle.ok());
  }
  // Serve() may still be stepping out of its accept; it owns nothing past this event.
  if (serving_) {
    Status finished = co_await serve_finished_.Wait();
    CHECK(finished.ok());
  }
}

Task<Result<CallResult>> RpcServer::CallLocal(uint32_t method_id, std::span<const std::byte> message,
                                              std::span<const iovec> payload, CallOptions options) {
  if (shutting_down_) co_return Status::Unavailable("server shutting down");
  const ServiceRegistry::Method* method = registry_.Find(method_id);
  if (method == nullptr) {
    co_return Status::Unimplemented(fmt::format("no method {}.{} on this server", method_id >> 16, method_id & 0xFFFF));
  }
  uint64_t payload_bytes = 0;
  for (const iovec& part : payload) payload_bytes += part.iov_len;
  if (payload_bytes > options_.limits.payload_bytes_max || message.size() > options_.limits.message_bytes_max) {
    co_return Status::OutOfRange(fmt::format("a request of {} + {} bytes is over the frame limits", message.size(), payload_bytes));
  }
  local_calls_in_flight_++;
  local_calls_idle_.Reset();
  // The handler gets the request as a connection would give it: its own copy of the message and
  // payload (it may keep or move them), and the payload's CRC, which it may check or pass on.
  RpcContext context;
  context.env = &env_;
  context.method = method_id;
  context.peer = "local";
  context.deadline = env_.Now() + options.timeout;
  context.request_message.Assign(message);
  if (payload_bytes > 0) {
    context.request_payload = PooledBuffer::Allocate(payload_bytes);
    size_t at = 0;
    for (const iovec& part : payload) {
      std::memcpy(context.request_payload.data() + at, part.iov_base, part.iov_len);
      at += part.iov_len;
    }
  }
  if (options.payload_crc && method->handler_checks_payload_crc) {
    context.request_payload_crc = *options.payload_crc;  // checked by the handler, in a pass it makes anyway
    context.request_payload_verified = false;
  } else {
    context.request_payload_crc = Crc32c(context.request_payload.span());
    if (options.payload_crc && *options.payload_crc != context.request_payload_crc) {
      if (--local_calls_in_flight_ == 0) local_calls_idle_.Set();
      co_return Status::DataLoss("the request payload does not match its CRC32C");
    }
  }
  Status status;
  {
    Deadline deadline(env_, context.deadline, options.cancel);
    context.cancel = deadline.token();
    if (deadline.expired()) {
      status = context.cancel.reason();
    } else {
      status = co_await method->handler(context);
    }
    context.cancel = {};
  }
  if (!status.ok()) {
    if (--local_calls_in_flight_ == 0) local_calls_idle_.Set();
    co_return status;
  }
  Status placement;  // a payload that does not fit the caller's buffer fails the call
  {
    CallResult result;
    result.message.Assign(context.response_message.span());
    for (const iovec& part : context.response_payload) result.payload_bytes += part.iov_len;
    const std::span<const iovec> parts(context.response_payload);
    // A CRC the handler derived is checked against the bytes, as a connection would on arrival,
    // unless the handler checked them against it just now.
    const bool verified = context.response_payload_crc && context.response_payload_verified;
    result.payload_crc = verified ? *context.response_payload_crc : Crc32c(parts);
    if (context.response_payload_crc && *context.response_payload_crc != result.payload_crc) {
      if (--local_calls_in_flight_ == 0) local_calls_idle_.Set();
      co_return Status::DataLoss("the response payload does not match its CRC32C");
    }
    // Into the caller's buffers, as a connection would receive them.
    const auto gather = [&](std::span<const iovec> into) {
      size_t from_part = 0, from_offset = 0;
      for (const iovec& target : into) {
        size_t filled = 0;
        while (filled < target.iov_len) {
          const iovec& source = parts[from_part];
          const size_t n = std::min(target.iov_len - filled, source.iov_len - from_offset);
          std::memcpy(static_cast<std::byte*>(target.iov_base) + filled, static_cast<const std::byte*>(source.iov_base) + from_offset, n);
          filled += n;
          from_offset += n;
          if (from_offset == source.iov_len) {
            from_part++;
            from_offset = 0;
          }
        }
      }
    };
    bool placed = result.payload_bytes == 0;
    if (!placed && options.response_payload_layout) {
      const std::vector<iovec> laid = options.response_payload_layout(result.message.span(), result.payload_bytes);
      uint64_t laid_out = 0;
      for (const iovec& part : laid) laid_out += part.iov_len;
      if (!laid.empty() && laid_out == result.payload_bytes) {
        gather(laid);
        placed = true;
      }
    }
    if (!placed && !options.response_payload.empty()) {
      if (result.payload_bytes > options.response_payload.size()) {
        placement = Status::OutOfRange(fmt::format("response payload of {} bytes does not fit the caller's buffer of {}",
                                                result.payload_bytes, options.response_payload.size()));
        placed = true;
      } else {
        const iovec into{options.response_payload.data(), result.payload_bytes};
        gather(std::span<const iovec>(&into, 1));
        placed = true;
      }
    }
    if (!placed) {
      result.payload = PooledBuffer::Allocate(result.payload_bytes);
      const iovec into{result.payload.data(), result.payload_bytes};
      gather(std::span<const iovec>(&into, 1));
    }
    if (--local_calls_in_flight_ == 0) local_calls_idle_.Set();
    if (!placement.ok()) co_return placement;
    co_return result;
  }
}

}  // namespace cerulean::rpc
