#include "rpc/client_connection.h"

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/logging.h"
#include "rpc/rpc_metrics.h"
#include "runtime/deadline.h"

namespace cerulean::rpc {

struct ClientConnection::PendingCall {
  explicit PendingCall(Env& env) : done(env) {}
  uint64_t request_id = 0;
  // Only a call whose request is fully written can be answered; anything else is a stray.
  const OutgoingFrame* request = nullptr;
  std::span<std::byte> destination;
  const std::function<std::vector<iovec>(std::span<const std::byte>, size_t)>* layout = nullptr;
  enum class State { kWaiting, kReceiving, kDone } state = State::kWaiting;
  Status status;
  CallResult result;
  Event done;
};

std::shared_ptr<ClientConnection> ClientConnection::Start(Env& env, std::unique_ptr<Stream> stream,
                                                          ClientConnectionOptions options) {
  auto connection = std::make_shared<ClientConnection>(env, std::move(stream), options);
  connection->tasks_.Spawn(connection->ReadLoop(connection));
  connection->tasks_.Spawn(connection->WriteLoop(connection));
  return connection;
}

ClientConnection::ClientConnection(Env& env, std::unique_ptr<Stream> stream,
                                   ClientConnectionOptions options)
    : env_(env),
      stream_(std::move(stream)),
      peer_(stream_->peer()),
      options_(options),
      reader_(*stream_, options.limits),
      writer_(env, *stream_),
      slots_(options.calls_inflight_max, nullptr),
      generations_(options.calls_inflight_max, 0),
      calls_available_(env, options.calls_inflight_max),
      tasks_(env) {
  CHECK(options.calls_inflight_max > 0);
  for (uint32_t i = options.calls_inflight_max; i > 0; i--) free_slots_.push_back(i - 1);
}

ClientConnection::~ClientConnection() = default;

void ClientConnection::Close(Status reason) {
  if (broken()) return;
  failure_ = std::move(reason);
  writer_.Fail(failure_);
  closed_.Cancel(failure_);
  stream_->Shutdown();
  // Calls still waiting for a response fail now; one being received is failed by the reader.
  for (PendingCall* call : slots_) {
    if (call != nullptr && call->state == PendingCall::State::kWaiting) Complete(*call, failure_);
  }
}

void ClientConnection::Complete(PendingCall& call, Status status) {
  call.status = std::move(status);
  call.state = PendingCall::State::kDone;
  call.done.Set();
}

ClientConnection::PendingCall* ClientConnection::Lookup(uint64_t request_id) {
  const uint64_t slot = request_id & 0xFFFFFFFF;
  if (slot >= slots_.size()) return nullptr;
  PendingCall* call = slots_[slot];
  if (call == nullptr || call->request_id != request_id || call->state != PendingCall::State::kWaiting) {
    return nullptr;  // a late response to a call that gave up
  }
  // A request still queued (or dropped unsent) cannot have been answered. One in a batch that
  // is still being written can: the server may have read it whole while later frames go out.
  const OutgoingFrame& request = *call->request;
  const bool sent_or_sending = request.state == OutgoingFrame::State::kWriting ||
                               (request.state == OutgoingFrame::State::kDone && request.status.ok());
  if (!sent_or_sending) return nullptr;
  return call;
}

Task<Result<CallResult>> ClientConnection::Call(uint32_t method, std::span<const std::byte> message,
                                                std::span<const iovec> payload,
                                                CallOptions options) {
  if (broken()) co_return failure_;
  Deadline deadline(env_, options.timeout, options.cancel);
  CO_RETURN_IF_ERROR(co_await calls_available_.Acquire(deadline.token()));
  if (broken()) {
    calls_available_.Release();
    co_return failure_;
  }
  const uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  PendingCall call(env_);
  call.request_id = (uint64_t{++generations_[slot]} << 32) | slot;
  call.destination = options.response_payload;
  if (options.response_payload_layout) call.layout = &options.response_payload_layout;
  slots_[slot] = &call;

  OutgoingFrame frame;
  FrameHeader header{.type = FrameType::kRequest,
                     .method = method,
                     .request_id = call.request_id,
                     .timeout_us = static_cast<uint64_t>(std::max<int64_t>(1, ToMicros(deadline.at() - env_.Now()))),
                     .message_bytes = static_cast<uint32_t>(message.size()),
                     .message_crc = Crc32c(message)};
  for (const iovec& part : payload) header.payload_bytes += part.iov_len;
  header.payload_crc = options.payload_crc ? *options.payload_crc : Crc32c(payload);
  EncodeFrameHeader(header, std::span<std::byte, kFrameHeaderBytes>(frame.header));
  frame.message = message;
  frame.payload = payload;
  call.request = &frame;

  Status outcome = co_await writer_.Send(frame, deadline.token());
  if (outcome.ok()) outcome = co_await call.done.Wait(deadline.token());
  if (call.state == PendingCall::State::kReceiving) {
    // The payload is streaming into the caller's buffer: that cannot be left running after we
    // return, so the connection is broken and we wait for the reader to let go.
    Close(Status::Unavailable("call abandoned while its response was arriving"));
    Status released = co_await call.done.Wait();
    CHECK(released.ok());
  } else if (!outcome.ok() && frame.state == OutgoingFrame::State::kDone && frame.status.ok() && !broken()) {
    // Sent but unanswered: tell the server to stop working on it.
    tasks_.Spawn(SendCancel(shared_from_this(), call.request_id));
  }
  if (outcome.ok()) outcome = call.status;
  slots_[slot] = nullptr;
  free_slots_.push_back(slot);
  calls_available_.Release();
  RpcMetrics::Get().client_calls.Increment();
  if (!outcome.ok()) {
    RpcMetrics::Get().client_calls_failed.Increment();
    co_return outcome;
  }
  co_return std::move(call.result);
}

Task<void> ClientConnection::SendCancel([[maybe_unused]] std::shared_ptr<ClientConnection> keep_alive, uint64_t request_id) {
  OutgoingFrame frame;
  EncodeFrameHeader({.type = FrameType::kCancel, .request_id = request_id},
                    std::span<std::byte, kFrameHeaderBytes>(frame.header));
  Status sent = co_await writer_.Send(frame, closed_.token());
  (void)sent;  // best effort: the server's own deadline ends the work anyway
}

Task<void> ClientConnection::WriteLoop([[maybe_unused]] std::shared_ptr<ClientConnection> keep_alive) {
  co_await writer_.Run();
  Close(writer_.failed() ? Status::Unavailable("connection to " + peer_ + " lost") : failure_);
}

Task<Status> ClientConnection::ReceiveResponse(PendingCall& call, const IncomingFrame& frame) {
  const FrameHeader& header = frame.header;
  if (header.status_code != 0) {
    call.status = Status(static_cast<StatusCode>(header.status_code),
                         std::string(reinterpret_cast<const char*>(frame.message.data()), frame.message.size()));
    co_return co_await reader_.SkipPayload(closed_.token());
  }
  call.result.message.Assign(frame.message);
  call.result.payload_bytes = header.payload_bytes;
  call.result.payload_crc = header.payload_crc;  // ReadPayload fails the call unless the bytes match it
  if (header.payload_bytes == 0) co_return Status::Ok();
  if (call.layout != nullptr) {
    // The caller lays the payload out over its own buffers, now that it can read the message.
    const std::vector<iovec> parts = (*call.layout)(frame.message, header.payload_bytes);
    uint64_t laid_out = 0;
    for (const iovec& part : parts) laid_out += part.iov_len;
    if (!parts.empty() && laid_out == header.payload_bytes) {
      co_return co_await reader_.ReadPayload(std::span<const iovec>(parts), closed_.token());
    }
  }
  std::span<std::byte> destination;
  if (!call.destination.empty()) {
    if (header.payload_bytes > call.destination.size()) {
      call.status = Status::OutOfRange(fmt::format("response payload of {} bytes does not fit the caller's buffer of {}",
                                                   header.payload_bytes, call.destination.size()));
      co_return co_await reader_.SkipPayload(closed_.token());
    }
    destination = call.destination.first(header.payload_bytes);
  } else {
    call.result.payload = PooledBuffer::Allocate(header.payload_bytes);
    destination = call.result.payload.span();
  }
  co_return co_await reader_.ReadPayload(destination, closed_.token());
}

Task<void> ClientConnection::ReadLoop([[maybe_unused]] std::shared_ptr<ClientConnection> keep_alive) {
  while (true) {
    auto frame = co_await reader_.ReadFrame(closed_.token());
    Status error = frame.ok() ? Status::Ok() : frame.status();
    if (error.ok() && frame->header.type != FrameType::kResponse) {
      error = Status::InvalidArgument("the server sent a frame that is not a response");
    }
    if (!error.ok()) {
      if (!broken() && error.code() != StatusCode::kUnavailable) {
        LOG_WARN("rpc connection closed peer={} reason={}", peer_, error.ToString());
        RpcMetrics::CountRejectedFrame("client", error);
      }
      Close(Status::Unavailable(fmt::format("connection to {} lost: {}", peer_, error.ToString())));
      co_return;
    }
    PendingCall* call = Lookup(frame->header.request_id);
    if (call == nullptr) {
      Status skipped = co_await reader_.SkipPayload(closed_.token());
      if (!skipped.ok()) {
        Close(Status::Unavailable(fmt::format("connection to {} lost: {}", peer_, skipped.ToString())));
        co_return;
      }
      continue;
    }
    call->state = PendingCall::State::kReceiving;
    Status received = co_await ReceiveResponse(*call, *frame);
    if (!received.ok()) {
      Status lost = Status::Unavailable(fmt::format("connection to {} lost: {}", peer_, received.ToString()));
      if (received.code() == StatusCode::kDataLoss) RpcMetrics::CountRejectedFrame("client", received);
      Complete(*call, lost);
      Close(lost);
      co_return;
    }
    Complete(*call, call->status);
  }
}

}  // namespace cerulean::rpc
