// RespServer: the KV cache behind the Redis protocol, on its own port, so that redis-cli,
// redis-py, redis-benchmark and LMCache's Redis backend work unchanged. String keys map to KV
// keys (SHA-256 of the name) in one default namespace; values are entries of one piece. It is a
// client of the KV service like any other (KvClientCore): keys are placed on the cluster's
// nodes as a native client places them. docs/protocols/resp.md lists the commands.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/kv_client_core.h"
#include "resp/resp_parser.h"
#include "runtime/env.h"
#include "runtime/task_group.h"

namespace cerulean::resp {

struct RespServerOptions {
  NetAddress listen{"127.0.0.1", 6379};
  ParseLimits limits;
  size_t connections_max = 10'000;
  std::string version;
};

class RespServer {
 public:
  // `kv` and the namespace's client must outlive the server.
  RespServer(Env& env, client::KvClientCore& kv, KvNamespace ns, RespServerOptions options);
  ~RespServer();
  Status Listen();
  NetAddress address() const;
  Task<void> Serve();
  // Stops accepting, closes every connection and waits for them.
  Task<void> Shutdown();

 private:
  class Connection;
  Task<void> RunConnection(uint64_t id, std::unique_ptr<Stream> stream);

  Env& env_;
  client::KvClientCore& kv_;
  KvNamespace ns_;
  RespServerOptions options_;
  std::unique_ptr<Listener> listener_;
  std::map<uint64_t, Stream*> connections_;
  uint64_t next_connection_id_ = 1;
  bool shutting_down_ = false;
  TaskGroup connection_tasks_;
  Event serve_finished_;
  bool serving_ = false;
};

// The KV key of a Redis key name.
KvKey KeyOfName(std::string_view name);

}  // namespace cerulean::resp
