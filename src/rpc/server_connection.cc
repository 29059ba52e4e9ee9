#include "rpc/server_connection.h"

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/logging.h"
#include "rpc/rpc_metrics.h"
#include "runtime/deadline.h"

namespace cerulean::rpc {

ServerConnection::ServerConnection(Env& env, std::unique_ptr<Stream> stream,
                                   const ServiceRegistry& registry, const RpcServerOptions& options,
                                   Semaphore& payload_bytes)
    : env_(env),
      stream_(std::move(stream)),
      peer_(stream_->peer()),
      registry_(registry),
      options_(options),
      reader_(*stream_, options.limits),
      writer_(env, *stream_),
      slots_available_(env, options.requests_inflight_per_connection_max),
      payload_bytes_(payload_bytes),
      handlers_(env),
      writer_task_(env) {
  for (size_t i = 0; i < options.requests_inflight_per_connection_max; i++) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->context.env = &env;
    slots_.back()->context.peer = peer_;
    free_slots_.push_back(slots_.back().get());
  }
}

ServerConnection::~ServerConnection() = default;

void ServerConnection::StopReading() { stop_reading_.Cancel(Status::Unavailable("server draining")); }

void ServerConnection::CancelHandlers() {
  cancel_handlers_.Cancel(Status::Unavailable("server shutting down"));
}

Task<void> ServerConnection::Run() {
  writer_task_.Spawn(writer_.Run());
  const Status closed = co_await ReadLoop();
  if (stop_reading_.cancelled() || reader_.closed_between_frames()) {
    LOG_DEBUG("rpc connection closed peer={} reason={}", peer_, closed.ToString());
  } else {
    // A bad or broken frame: log it, count it, close only this connection, and stop the work
    // of its handlers, whose answers nobody can receive.
    LOG_WARN("rpc connection closed peer={} reason={}", peer_, closed.ToString());
    RpcMetrics::CountRejectedFrame("server", closed);
    CancelHandlers();
  }
  // Let the requests already taken finish and their responses go out, then close.
  co_await handlers_.Join();
  writer_.Fail(Status::Unavailable("connection closed"));
  stream_->Shutdown();
  co_await writer_task_.Join();
}

Task<Status> ServerConnection::ReadLoop() {
  while (true) {
    auto frame = co_await reader_.ReadFrame(stop_reading_.token());
    if (!frame.ok()) co_return frame.status();
    const FrameHeader& header = frame->header;
    if (header.type == FrameType::kCancel) {
      CancelRequest(header.request_id);
      continue;
    }
    if (header.type != FrameType::kRequest) {
      co_return Status::InvalidArgument("a client sent a response frame");
    }
    // At the bound, stop reading: the client's writes back up behind TCP's window.
    Status acquired = co_await slots_available_.Acquire(stop_reading_.token());
    if (!acquired.ok()) co_return acquired;
    Slot& slot = *free_slots_.back();
    free_slots_.pop_back();
    slot.busy = true;
    slot.cancel.emplace();  // now, so that a cancel frame right behind this request finds it
    RpcContext& context = slot.context;
    context.Reset();
    context.method = header.method;
    context.request_id = header.request_id;
    // The wire value is the client's; clamp it before it meets arithmetic.
    constexpr uint64_t kTimeoutMicrosMax = 86'400'000'000;  // one day
    context.deadline = header.timeout_us == 0
                           ? TimePoint::Max()
                           : env_.Now() + std::chrono::microseconds(std::min(header.timeout_us, kTimeoutMicrosMax));
    context.request_message.Assign(frame->message);
    if (header.payload_bytes > 0) {
      const ServiceRegistry::Method* method = registry_.Find(header.method);
      context.request_payload_verified = method == nullptr || !method->handler_checks_payload_crc;
      Status read = co_await ReadRequestPayload(slot, header.payload_bytes);
      context.request_payload_crc = header.payload_crc;
      if (!read.ok()) {
        Release(slot);
        co_return read;
      }
    }
    handlers_.Spawn(Handle(slot));
  }
}

void ServerConnection::CancelRequest(uint64_t request_id) {
  // Cancel frames are rare; a scan of the slots is cheaper than an index kept for them.
  for (auto& slot : slots_) {
    if (slot->busy && slot->context.request_id == request_id && slot->cancel) {
      slot->cancel->Cancel(Status::Cancelled("the client cancelled the call"));
    }
  }
}

Task<Status> ServerConnection::ReadRequestPayload(Slot& slot, uint64_t bytes) {
  // The budget first: past it, this connection waits (and stops reading) until others finish.
  CO_RETURN_IF_ERROR(co_await payload_bytes_.Acquire(stop_reading_.token(), bytes));
  slot.payload_bytes_held = bytes;
  slot.context.request_payload = PooledBuffer::Allocate(bytes);
  Deadline body(env_, options_.frame_body_timeout, stop_reading_.token());
  Status read = co_await reader_.ReadPayload(slot.context.request_payload.span(), body.token(),
                                            slot.context.request_payload_verified);
  if (!read.ok() && body.expired() && !stop_reading_.cancelled()) {
    co_return Status::DeadlineExceeded("request payload did not arrive in time");
  }
  co_return read;
}

Task<void> ServerConnection::Handle(Slot& slot) {
  RpcContext& context = slot.context;
  RpcMetrics::Get().server_requests.Increment();
  CancelCallback on_shutdown(cancel_handlers_.token(), [](void* s) {
    static_cast<CancelSource*>(s)->Cancel(Status::Unavailable("server shutting down"));
  }, &*slot.cancel);
  Status status;
  {
    Deadline deadline(env_, context.deadline, slot.cancel->token());
    context.cancel = deadline.token();
    const ServiceRegistry::Method* method = registry_.Find(context.method);
    if (method == nullptr) {
      status = Status::Unimplemented(fmt::format("no method {}.{} on this server",
                                                 context.method >> 16, context.method & 0xFFFF));
    } else if (deadline.expired()) {
      status = context.cancel.reason();
    } else {
      status = co_await method->handler(context);
    }
    context.cancel = {};
  }
  if (!status.ok()) {
    RpcMetrics::Get().server_requests_failed.Increment();
    context.response_message.Assign(std::as_bytes(std::span(status.message())));
    context.response_payload.clear();
  }
  FrameHeader header{.type = FrameType::kResponse,
                     .method = context.method,
                     .status_code = static_cast<uint32_t>(status.code()),
                     .request_id = context.request_id,
                     .message_bytes = static_cast<uint32_t>(context.response_message.size()),
                     .message_crc = Crc32c(context.response_message.span())};
  for (const iovec& part : context.response_payload) header.payload_bytes += part.iov_len;
  header.payload_crc = context.response_payload_crc ? *context.response_payload_crc
                                                     : Crc32c(std::span<const iovec>(context.response_payload));
  EncodeFrameHeader(header, std::span<std::byte, kFrameHeaderBytes>(slot.frame.header));
  slot.frame.message = context.response_message.span();
  slot.frame.payload = context.response_payload;
  Status sent = co_await writer_.Send(slot.frame, cancel_handlers_.token());
  (void)sent;  // a failed write has already broken the connection; the read loop sees it
  Release(slot);
}

void ServerConnection::Release(Slot& slot) {
  if (slot.payload_bytes_held > 0) payload_bytes_.Release(slot.payload_bytes_held);
  slot.payload_bytes_held = 0;
  slot.busy = false;
  slot.cancel.reset();
  slot.context.Reset();
  free_slots_.push_back(&slot);
  slots_available_.Release();
}

}  // namespace cerulean::rpc
