// ServerNode: one Cerulean server on one shard, in any of its roles:
//   all-in-one  meta and one storage node in one process (data in <data>/meta, <data>/storage);
//   meta        the metadata service alone (data in <data>);
//   storage     a storage node (extents in <data>) that registers with meta and heartbeats.
// `cerulean server` runs one, and so does a client opened in embedded mode. Single loop.
#pragma once

#include <memory>
#include <string>

#include "kv/kv_service.h"
#include "kv/kv_store.h"
#include "meta/meta_node.h"
#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h"
#include "rpc/service_registry.h"
#include "runtime/cancellation.h"
#include "runtime/task_group.h"
#include "shm/shm_regions.h"
#include "storage/extent_store.h"

namespace cerulean::server {

struct ServerNodeOptions {
  std::string role = "all-in-one";
  NetAddress listen{"127.0.0.1", 7400};  // port 0: any free port
  std::string data_directory = "./cerulean-data";
  // Storage role: where meta listens; empty runs a standalone node that registers nowhere, for
  // chains configured by hand. (All-in-one reports to its own meta.)
  std::string meta_address;
  // Meta: the replica count of new extents unless a writer asks otherwise.
  size_t replicas = 1;
  Duration heartbeat_every = std::chrono::seconds(1);
  Duration down_after = std::chrono::seconds(10);
  storage::ExtentStoreOptions store;
  kv::KvStoreOptions kv;  // the KV cache of a storage node
  // Its SSD tier, in <storage directory>/kv-ssd (the directory is filled in); capacity 0: none.
  kv::SsdTierOptions kv_ssd{.capacity_bytes = 4ull << 30};
  std::string version;
  std::string build;
};

class ServerNode {
 public:
  // Opens the roles' data, listens and serves. (`options` by reference: see MetaNode::Open.)
  static Task<Result<std::unique_ptr<ServerNode>>> Start(Env& env, const ServerNodeOptions& options);
  ~ServerNode();
  // Stops taking requests, drains those in flight and closes the data: nothing acknowledged
  // is lost.
  Task<void> Stop();

  NetAddress address() const { return server_->address(); }
  const std::string& node_id() const { return node_id_; }
  meta::MetaNode* meta() { return meta_.get(); }
  storage::ExtentStore* store() { return store_.get(); }
  kv::KvStore* kv_store() { return kv_store_.get(); }

 private:
  ServerNode(Env& env, const ServerNodeOptions& options);
  Task<Status> StartRoles();
  Task<Status> StartStorage(const std::string& directory);
  Task<Result<kv::KvNamespaceLimits>> LookupKvNamespace(uint32_t id);
  meta::NodeReportRequest Report() const;
  Task<Status> SendReport();
  Task<void> HeartbeatLoop();

  Env& env_;
  ServerNodeOptions options_;
  bool serving_ = true;
  rpc::ServiceRegistry registry_;
  std::unique_ptr<rpc::RpcClient> peers_;  // chain forwarding, meta's calls to storage, heartbeats
  std::unique_ptr<meta::MetaNode> meta_;
  std::unique_ptr<storage::ExtentStore> store_;
  shm::ShmRegions shared_regions_;  // same-host clients' memory that object reads land in
  std::unique_ptr<kv::KvStore> kv_store_;
  std::unique_ptr<kv::KvService> kv_service_;
  std::string node_id_;
  std::string storage_directory_;
  std::unique_ptr<rpc::RpcServer> server_;
  CancelSource stopping_;
  std::unique_ptr<TaskGroup> tasks_;
};

// The node id kept in `directory` (created on first use): stable across restarts, so that meta
// knows a restarted node as the same one.
Result<std::string> LoadOrCreateNodeId(const std::string& directory, uint64_t random);

}  // namespace cerulean::server
