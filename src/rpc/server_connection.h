// ServerConnection: one accepted connection of an RpcServer: its read loop, its request slots
// (preallocated, so serving a request allocates nothing in the steady state), its handlers and
// its writer. Owned by the RpcServer; single loop.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "rpc/frame_reader.h"
#include "rpc/frame_writer.h"
#include "rpc/rpc_server.h"
#include "runtime/semaphore.h"
#include "runtime/task_group.h"

namespace cerulean::rpc {

class ServerConnection {
 public:
  ServerConnection(Env& env, std::unique_ptr<Stream> stream, const ServiceRegistry& registry,
                   const RpcServerOptions& options, Semaphore& payload_bytes);
  ~ServerConnection();

  // Serves until the peer closes, a bad frame arrives or StopReading(); then lets in-flight
  // requests finish, writes their responses and closes the stream.
  Task<void> Run();
  // Takes no new requests (graceful drain).
  void StopReading();
  // Cancels the handlers still running (the drain deadline has passed).
  void CancelHandlers();
  const std::string& peer() const { return peer_; }

 private:
  struct Slot {
    RpcContext context;
    OutgoingFrame frame;
    std::optional<CancelSource> cancel;
    uint64_t payload_bytes_held = 0;  // of the server-wide payload budget
    bool busy = false;
  };

  Task<Status> ReadLoop();
  Task<Status> ReadRequestPayload(Slot& slot, uint64_t bytes);
  Task<void> Handle(Slot& slot);
  void Release(Slot& slot);
  void CancelRequest(uint64_t request_id);

  Env& env_;
  std::unique_ptr<Stream> stream_;
  std::string peer_;
  const ServiceRegistry& registry_;
  const RpcServerOptions& options_;
  FrameReader reader_;
  FrameWriter writer_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_slots_;
  Semaphore slots_available_;
  Semaphore& payload_bytes_;
  CancelSource stop_reading_;
  CancelSource cancel_handlers_;
  TaskGroup handlers_;
  TaskGroup writer_task_;
};

}  // namespace cerulean::rpc
