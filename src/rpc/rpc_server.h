// RpcServer: accepts connections on one address and serves the methods of a ServiceRegistry.
// Each connection reads frames, runs up to `requests_inflight_per_connection_max` handlers at
// once (past that it stops reading, which pushes back on the client through TCP), and writes
// responses through one batching writer. A bad frame closes only its own connection.
// Shutdown() drains: it stops accepting and reading, lets in-flight requests finish (cancelling
// them at the drain deadline), then closes. Owned by one shard; not thread-safe.
#pragma once

#include <map>
#include <memory>

#include "rpc/call.h"
#include "rpc/frame.h"
#include "rpc/service_registry.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/semaphore.h"
#include "runtime/task_group.h"

namespace cerulean::rpc {

struct RpcServerOptions {
  size_t requests_inflight_per_connection_max = 128;
  FrameLimits limits;
  // Request payloads held at once across all connections: a connection whose next payload
  // does not fit stops reading until others finish. Bounds the memory clients can pin.
  uint64_t request_payload_bytes_inflight_max = 1ull << 30;
  // Once a frame's header has arrived, the rest of it must arrive within this (slow senders
  // cannot hold a slot and its buffer forever).
  Duration frame_body_timeout = std::chrono::seconds(30);
  size_t connections_max = 4096;
  Duration drain_timeout = std::chrono::seconds(5);
};

class ServerConnection;

class RpcServer {
 public:
  RpcServer(Env& env, const ServiceRegistry& registry, RpcServerOptions options = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds and listens; port 0 picks a free port (see address()).
  Status Listen(const NetAddress& address);
  NetAddress address() const;

  // Accepts and serves until Shutdown(); returns once every connection has closed.
  Task<void> Serve();
  // Drains and stops; returns when Serve() has nothing left running.
  Task<void> Shutdown();

  size_t connection_count() const { return connections_.size(); }
  // A call from this process on this server's loop, served without a socket (local_calls.h).
  Task<Result<CallResult>> CallLocal(uint32_t method, std::span<const std::byte> message,
                                     std::span<const iovec> payload, CallOptions options);

 private:
  Task<void> RunConnection(uint64_t id, std::shared_ptr<ServerConnection> connection);

  Env& env_;
  const ServiceRegistry& registry_;
  RpcServerOptions options_;
  std::unique_ptr<Listener> listener_;
  std::map<uint64_t, std::shared_ptr<ServerConnection>> connections_;
  uint64_t next_connection_id_ = 0;
  TaskGroup connection_tasks_;
  Semaphore payload_bytes_;
  Event serve_finished_;
  bool shutting_down_ = false;
  bool serving_ = false;
  size_t local_calls_in_flight_ = 0;
  Event local_calls_idle_;
};

}  // namespace cerulean::rpc
