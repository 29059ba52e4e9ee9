// ClientConnection: one TCP connection to a server, carrying many calls at once. Each call takes
// a slot (the bound on calls in flight), is written by the shared FrameWriter and completed by
// the read loop when its response arrives; response payloads are received straight into the
// caller's buffer. A deadline or cancellation ends a call at once; the server is told with a
// cancel frame. Any connection error fails every call in flight with Unavailable, and the
// connection is then replaced by the pool (RpcClient). Single loop.
#pragma once

#include <memory>
#include <vector>

#include "rpc/call.h"
#include "rpc/frame_reader.h"
#include "rpc/frame_writer.h"
#include "runtime/event.h"
#include "runtime/semaphore.h"
#include "runtime/task_group.h"

namespace cerulean::rpc {

struct ClientConnectionOptions {
  uint32_t calls_inflight_max = 1024;
  FrameLimits limits;
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  // Takes the connected stream and starts its reader and writer tasks.
  static std::shared_ptr<ClientConnection> Start(Env& env, std::unique_ptr<Stream> stream,
                                                 ClientConnectionOptions options);
  ClientConnection(Env& env, std::unique_ptr<Stream> stream, ClientConnectionOptions options);
  ~ClientConnection();

  Task<Result<CallResult>> Call(uint32_t method, std::span<const std::byte> message,
                                std::span<const iovec> payload, CallOptions options);

  bool broken() const { return !failure_.ok(); }
  const Status& failure() const { return failure_; }
  size_t inflight() const { return options_.calls_inflight_max - calls_available_.available(); }
  const std::string& peer() const { return peer_; }
  // Fails every call in flight with `reason` and closes the stream.
  void Close(Status reason);
  // Completes once the reader and writer tasks have ended (after Close or a failure).
  Task<void> WaitClosed() { return tasks_.Join(); }

 private:
  struct PendingCall;
  Task<void> ReadLoop([[maybe_unused]] std::shared_ptr<ClientConnection> keep_alive);
  Task<void> WriteLoop([[maybe_unused]] std::shared_ptr<ClientConnection> keep_alive);
  Task<void> SendCancel([[maybe_unused]] std::shared_ptr<ClientConnection> keep_alive, uint64_t request_id);
  Task<Status> ReceiveResponse(PendingCall& call, const IncomingFrame& frame);
  PendingCall* Lookup(uint64_t request_id);
  void Complete(PendingCall& call, Status status);

  Env& env_;
  std::unique_ptr<Stream> stream_;
  std::string peer_;
  ClientConnectionOptions options_;
  FrameReader reader_;
  FrameWriter writer_;
  // Slot i holds the call whose request id is (generation[i] << 32 | i).
  std::vector<PendingCall*> slots_;
  std::vector<uint32_t> generations_;
  std::vector<uint32_t> free_slots_;
  Semaphore calls_available_;
  CancelSource closed_;
  Status failure_;
  TaskGroup tasks_;
};

}  // namespace cerulean::rpc
