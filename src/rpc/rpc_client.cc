#include "rpc/rpc_client.h"

#include <fmt/format.h>

#include "base/logging.h"
#include "rpc/local_calls.h"
#include "rpc/rpc_metrics.h"
#include "rpc/rpc_server.h"
#include "runtime/deadline.h"
#include "runtime/event.h"

namespace cerulean::rpc {

struct RpcChannel::Peer {
  Peer(Env& env, NetAddress a, size_t connection_count)
      : address(std::move(a)), connections(connection_count), connecting(connection_count) {
    for (auto& event : connecting) event = std::make_unique<Event>(env);
    for (auto& event : connecting) event->Set();
  }
  NetAddress address;
  std::vector<std::shared_ptr<ClientConnection>> connections;
  // Set while no connect is in progress for that index; callers wait on it instead of dialing twice.
  std::vector<std::unique_ptr<Event>> connecting;
  size_t next = 0;
  // The server of this process at `address` that takes local calls, as of `local_generation`.
  RpcServer* local = nullptr;
  uint64_t local_generation = 0;
  Duration backoff{0};
  TimePoint next_attempt;
  Status last_error;
};

Task<Result<CallResult>> RpcChannel::Call(uint32_t method, std::span<const std::byte> message,
                                          std::span<const iovec> payload, CallOptions options) {
  if (RpcServer* local = client_->LocalServer(*peer_)) {
    co_return co_await local->CallLocal(method, message, payload, std::move(options));
  }
  if (auto ready = client_->ReadyConnection(*peer_)) {
    co_return co_await ready->Call(method, message, payload, options);
  }
  // (Re)connecting counts against the call's own deadline.
  Env& env = client_->env_;
  Deadline deadline(env, options.timeout, options.cancel);
  auto connection = co_await client_->Connection(*peer_, deadline.token());
  if (!connection.ok()) co_return connection.status();
  options.cancel = deadline.token();
  options.timeout = deadline.at() - env.Now();
  co_return co_await (*connection)->Call(method, message, payload, options);
}

const NetAddress& RpcChannel::address() const { return peer_->address; }

RpcClient::RpcClient(Env& env, RpcClientOptions options)
    : env_(env), options_(options), dials_idle_(env) {
  CHECK(options_.connections_per_peer >= 1);
  dials_idle_.Set();
}

RpcServer* RpcClient::LocalServer(RpcChannel::Peer& peer) {
  if (!options_.local_calls || closed_) return nullptr;
  if (peer.local_generation != local_calls::Generation()) {
    peer.local = local_calls::Find(env_, peer.address);
    peer.local_generation = local_calls::Generation();
  }
  return peer.local;
}

bool RpcClient::CallsLocally(const NetAddress& peer) {
  RpcChannel channel = Channel(peer);
  return LocalServer(*channel.peer_) != nullptr;
}

std::shared_ptr<ClientConnection> RpcClient::ReadyConnection(RpcChannel::Peer& peer) {
  if (closed_) return nullptr;
  std::shared_ptr<ClientConnection>& connection = peer.connections[peer.next % peer.connections.size()];
  if (!connection || connection->broken()) return nullptr;
  peer.next++;
  return connection;
}

RpcClient::~RpcClient() { CHECK(closed_ || peers_.empty()) << "Close() the client before destroying it"; }

RpcChannel RpcClient::Channel(const NetAddress& address) {
  auto& peer = peers_[address.ToString()];
  if (!peer) peer = std::make_unique<RpcChannel::Peer>(env_, address, options_.connections_per_peer);
  return RpcChannel(*this, *peer);
}

Task<Result<CallResult>> RpcClient::Call(NetAddress peer, uint32_t method,
                                         std::span<const std::byte> message,
                                         std::span<const iovec> payload, CallOptions options) {
  RpcChannel channel = Channel(peer);
  co_return co_await channel.Call(method, message, payload, options);
}

Task<Result<std::shared_ptr<ClientConnection>>> RpcClient::Connection(RpcChannel::Peer& peer,
                                                                      CancelToken cancel) {
  if (closed_) co_return Status::FailedPrecondition("rpc client closed");
  const size_t index = peer.next++ % peer.connections.size();
  while (true) {
    std::shared_ptr<ClientConnection>& connection = peer.connections[index];
    if (connection && !connection->broken()) co_return connection;
    if (peer.connecting[index]->is_set()) break;
    CO_RETURN_IF_ERROR(co_await peer.connecting[index]->Wait(cancel));  // another call is dialing
    if (peer.connections[index] == nullptr || peer.connections[index]->broken()) {
      co_return Status::Unavailable(fmt::format("cannot connect to {}: {}", peer.address.ToString(),
                                                peer.last_error.ToString()));
    }
  }
  co_return co_await Connect(peer, index, cancel);
}

Task<Result<std::shared_ptr<ClientConnection>>> RpcClient::Connect(RpcChannel::Peer& peer, size_t index,
                                                                   CancelToken cancel) {
  const TimePoint now = env_.Now();
  if (now < peer.next_attempt) {
    co_return Status::Unavailable(fmt::format("{} is unreachable ({}); next attempt in {} ms",
                                              peer.address.ToString(), peer.last_error.ToString(),
                                              ToMillis(peer.next_attempt - now)));
  }
  if (auto& old = peer.connections[index]) retired_.push_back(std::move(old));
  peer.connecting[index]->Reset();
  // Ends at the earliest of: the caller's token, Close(), connect_timeout.
  CancelSource dial;
  auto fire = [](void* source) { static_cast<CancelSource*>(source)->Cancel(Status::Cancelled("dial cancelled")); };
  CancelCallback on_caller(cancel, fire, &dial);
  CancelCallback on_close(closing_.token(), fire, &dial);
  if (cancel.cancelled()) dial.Cancel(cancel.reason());
  if (dials_in_flight_++ == 0) dials_idle_.Reset();
  // Runs when this coroutine returns, after its last touch of the client: Close() may then go on.
  struct DialGuard {
    RpcClient& client;
    ~DialGuard() {
      if (--client.dials_in_flight_ == 0) client.dials_idle_.Set();
    }
  } guard{*this};
  Deadline deadline(env_, options_.connect_timeout, dial.token());
  auto stream = co_await env_.Connect(peer.address, deadline.token());
  peer.connecting[index]->Set();
  if (!stream.ok() && cancel.cancelled()) co_return cancel.reason();
  if (!stream.ok()) {
    RpcMetrics::Get().client_connect_failures.Increment();
    peer.last_error = stream.status();
    // Exponential backoff with jitter in [0.5, 1.5) so that many clients do not retry in step.
    peer.backoff = std::clamp(peer.backoff * 2, options_.reconnect_backoff_min, options_.reconnect_backoff_max);
    const double jitter = 0.5 + static_cast<double>(env_.Random() % 1000) / 1000.0;
    peer.next_attempt = env_.Now() + Duration(static_cast<int64_t>(static_cast<double>(peer.backoff.count()) * jitter));
    LOG_DEBUG("rpc connect failed peer={} error={} backoff_ms={}", peer.address.ToString(),
              stream.status().ToString(), ToMillis(peer.backoff));
    co_return Status::Unavailable(fmt::format("cannot connect to {}: {}", peer.address.ToString(),
                                              stream.status().ToString()));
  }
  if (closed_) {  // Close() ran while we were dialing
    (*stream)->Shutdown();
    co_return Status::FailedPrecondition("rpc client closed");
  }
  RpcMetrics::Get().client_connects.Increment();
  peer.backoff = Duration(0);
  peer.next_attempt = TimePoint{};
  peer.connections[index] = ClientConnection::Start(env_, std::move(*stream), options_.connection);
  // Forget retired connections whose tasks have finished.
  std::erase_if(retired_, [](const auto& c) { return c.use_count() == 1; });
  co_return peer.connections[index];
}

Task<void> RpcClient::Close() {
  closed_ = true;
  closing_.Cancel(Status::Cancelled("rpc client closing"));
  while (dials_in_flight_ > 0) {
    Status idle = co_await dials_idle_.Wait();
    CHECK(idle.ok());
  }
  for (auto& [name, peer] : peers_) {
    for (auto& connection : peer->connections) {
      if (connection) retired_.push_back(std::move(connection));
    }
  }
  for (auto& connection : retired_) connection->Close(Status::Unavailable("rpc client closed"));
  for (auto& connection : retired_) co_await connection->WaitClosed();
  retired_.clear();
}

}  // namespace cerulean::rpc
