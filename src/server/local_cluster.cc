#include "server/local_cluster.h"

#include <fmt/format.h>

namespace cerulean::server {

LocalCluster::LocalCluster(const LocalClusterOptions& options)
    : shards_({.shard_count = 1 + options.storage_nodes, .loop = {.poll_before_sleep = options.poll_before_sleep}}) {
  nodes_.resize(1 + options.storage_nodes);
  ServerNodeOptions meta;
  meta.role = "meta";
  meta.listen = NetAddress("127.0.0.1", 0);
  meta.data_directory = options.directory + "/meta";
  meta.replicas = options.replicas;
  meta.down_after = options.down_after;
  Start(0, meta);
  meta_address_ = nodes_[0]->address().ToString();
  for (size_t i = 1; i <= options.storage_nodes; i++) {
    ServerNodeOptions storage;
    storage.role = "storage";
    storage.listen = NetAddress("127.0.0.1", 0);
    storage.data_directory = fmt::format("{}/storage{}", options.directory, i);
    storage.meta_address = meta_address_;
    storage.heartbeat_every = options.heartbeat_every;
    storage.store.capacity_bytes = options.capacity_bytes_per_node;
    if (options.extent_bytes_max != 0) storage.store.extent_bytes_max = options.extent_bytes_max;
    storage.store.payload_cache.capacity_bytes = options.read_cache_bytes_per_node;
    if (options.kv_dram_bytes) storage.kv.dram_bytes = *options.kv_dram_bytes;
    if (options.kv_ssd_bytes) storage.kv_ssd.capacity_bytes = *options.kv_ssd_bytes;
    Start(i, storage);
  }
}

LocalCluster::~LocalCluster() {
  // Storage nodes first, then meta, as an operator would.
  for (size_t i = nodes_.size(); i-- > 0;) Kill(i);
  shards_.Stop();
}

void LocalCluster::Kill(size_t i) {
  if (nodes_[i] == nullptr) return;
  shards_.RunAndWait<int>(i, [&](Env&) -> Task<int> {
    co_await nodes_[i]->Stop();
    nodes_[i].reset();
    co_return 0;
  });
}

void LocalCluster::Start(size_t i, const ServerNodeOptions& options) {
  Status started = shards_.RunAndWait<Status>(i, [&](Env& env) -> Task<Status> {
    auto node = co_await ServerNode::Start(env, options);
    if (!node.ok()) co_return node.status();
    nodes_[i] = std::move(*node);
    co_return Status::Ok();
  });
  CHECK(started.ok()) << "local cluster node " << i << ": " << started;
}

}  // namespace cerulean::server
