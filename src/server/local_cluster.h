// LocalCluster: one meta and N storage nodes in this process, each a ServerNode on its own
// shard, talking over loopback rpc exactly as separate processes would. For tests and
// benchmarks; `scripts/cluster.sh` runs the same layout as processes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/uring/shard_set.h"
#include "server/server_node.h"

namespace cerulean::server {

struct LocalClusterOptions {
  std::string directory;  // meta in <directory>/meta, node i in <directory>/storage<i>
  size_t storage_nodes = 3;
  size_t replicas = 3;
  Duration down_after = std::chrono::milliseconds(1500);
  Duration heartbeat_every = std::chrono::milliseconds(200);
  uint64_t capacity_bytes_per_node = 0;  // 0: the file system's size
  uint64_t extent_bytes_max = 0;         // 0: ExtentStoreOptions' default
  // Each node's payload cache of hot records (`cerulean server --read-cache-mib`; 0: none).
  uint64_t read_cache_bytes_per_node = 0;
  // Each node's KV cache tiers (ServerNodeOptions' defaults unless set).
  std::optional<uint64_t> kv_dram_bytes;
  std::optional<uint64_t> kv_ssd_bytes;
  // How long each node's shard polls before it sleeps (`cerulean server --poll-us`; tests: 0).
  Duration poll_before_sleep = Duration::zero();
};

class LocalCluster {
 public:
  // Starts every node; CHECK-fails if one cannot start.
  explicit LocalCluster(const LocalClusterOptions& options);
  ~LocalCluster();

  // Stops storage node i (1..N; 0 is meta): its peers see it gone, as after a crash.
  void Kill(size_t i);
  const std::string& meta_address() const { return meta_address_; }
  // Runs `function(node, env)` on node i's shard and waits for it.
  template <typename T>
  T RunOn(size_t i, std::function<Task<T>(ServerNode& node, Env& env)> function) {
    return shards_.RunAndWait<T>(i, [&](Env& env) -> Task<T> { co_return co_await function(*nodes_[i], env); });
  }

 private:
  void Start(size_t i, const ServerNodeOptions& options);

  ShardSet shards_;
  std::vector<std::unique_ptr<ServerNode>> nodes_;
  std::string meta_address_;
};

}  // namespace cerulean::server
