// RpcClient: calls to any number of peers over pooled connections. Each peer gets up to
// `connections_per_peer` connections, used round-robin, each carrying many calls at once. A
// broken connection is replaced on the next call; after a failed connect the peer is left alone
// for a backoff that doubles (with jitter) up to `reconnect_backoff_max`, and calls in that
// window fail fast with Unavailable, which callers may retry. Owned by one shard; single loop.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rpc/call.h"
#include "rpc/client_connection.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/net_address.h"

namespace cerulean::rpc {

struct RpcClientOptions {
  size_t connections_per_peer = 1;
  Duration connect_timeout = std::chrono::seconds(5);
  Duration reconnect_backoff_min = std::chrono::milliseconds(10);
  Duration reconnect_backoff_max = std::chrono::seconds(2);
  ClientConnectionOptions connection;
  // Calls to a server of this process on this loop run its handler directly, without a socket
  // (local_calls.h). Off only for tests of the network path itself.
  bool local_calls = true;
};

class RpcClient;
class RpcServer;

// A handle on one peer: saves the address lookup on every call. Valid while its client is.
class RpcChannel {
 public:
  Task<Result<CallResult>> Call(uint32_t method, std::span<const std::byte> message,
                                std::span<const iovec> payload = {}, CallOptions options = {});
  const NetAddress& address() const;

 private:
  friend class RpcClient;
  struct Peer;
  RpcChannel(RpcClient& client, Peer& peer) : client_(&client), peer_(&peer) {}
  RpcClient* client_;
  Peer* peer_;
};

class RpcClient {
 public:
  RpcClient(Env& env, RpcClientOptions options = {});
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  RpcChannel Channel(const NetAddress& peer);
  Task<Result<CallResult>> Call(NetAddress peer, uint32_t method,
                                std::span<const std::byte> message,
                                std::span<const iovec> payload = {}, CallOptions options = {});
  // Whether calls to `peer` go to a server in this process (docs/protocols/rpc.md, local calls).
  bool CallsLocally(const NetAddress& peer);
  // Closes every connection, failing calls in flight, and waits for their tasks to end.
  Task<void> Close();

 private:
  friend class RpcChannel;
  // A healthy pooled connection, or nullptr: the fast path, with nothing to wait for.
  std::shared_ptr<ClientConnection> ReadyConnection(RpcChannel::Peer& peer);
  RpcServer* LocalServer(RpcChannel::Peer& peer);
  Task<Result<std::shared_ptr<ClientConnection>>> Connection(RpcChannel::Peer& peer, CancelToken cancel);
  Task<Result<std::shared_ptr<ClientConnection>>> Connect(RpcChannel::Peer& peer, size_t index,
                                                          CancelToken cancel);

  Env& env_;
  RpcClientOptions options_;
  std::map<std::string, std::unique_ptr<RpcChannel::Peer>> peers_;
  std::vector<std::shared_ptr<ClientConnection>> retired_;
  // Dials in progress, which Close() cancels and waits for.
  CancelSource closing_;
  size_t dials_in_flight_ = 0;
  Event dials_idle_;
  bool closed_ = false;
};

}  // namespace cerulean::rpc
