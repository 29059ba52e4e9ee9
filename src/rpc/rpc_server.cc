#include "rpc/rpc_server.h"

#include "base/logging.h"
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
      serve_finished_(env) {
  CHECK(options_.limits.payload_bytes_max <= options_.request_payload_bytes_inflight_max)
      << "a single payload must fit the server's payload budget";
}

RpcServer::~RpcServer() { CHECK(!serving_) << "destroying a server that is still serving"; }

Status RpcServer::Listen(const NetAddress& address) {
  auto listener = env_.Listen(address);
  if (!listener.ok()) return listener.status();
  listener_ = std::move(*listener);
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
  // Serve() may still be stepping out of its accept; it owns nothing past this event.
  if (serving_) {
    Status finished = co_await serve_finished_.Wait();
    CHECK(finished.ok());
  }
}

}  // namespace cerulean::rpc
