// MetaNode: everything the meta role runs, on one shard: the metadata store (RocksDB), the
// namespace, the cluster map and the extent manager, with the put protocol that joins them
// (docs/protocols/metadata.md) and a background task that watches node liveness and seals.
// One shard; not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "meta/cluster_map.h"
#include "meta/kv_namespaces.h"
#include "meta/extent_manager.h"
#include "meta/meta_messages.h"
#include "meta/metadata_store.h"
#include "meta/namespace.h"
#include "runtime/cancellation.h"
#include "runtime/task_group.h"

namespace cerulean::meta {

struct MetaOptions {
  std::string directory;  // where RocksDB keeps the namespace
  size_t default_replicas = 1;
  ClusterMapOptions cluster;
  ExtentManagerOptions extents;
  Duration maintain_every = std::chrono::seconds(1);
  // Store only: a test may pass its own store, which the node then does not own.
  MetadataStore* store = nullptr;
};

class MetaNode {
 public:
  // Opens the store, loads extents and known nodes, and starts the maintenance task. `storage`
  // reaches the storage nodes and must outlive the node. (`options` by reference: g++ 12 breaks
  // a braced aggregate holding strings passed by value to a coroutine; the caller awaits at once.)
  static Task<Result<std::unique_ptr<MetaNode>>> Open(Env& env, const MetaOptions& options, rpc::RpcClient& storage);
  ~MetaNode();
  // Stops maintenance and waits for commits in flight.
  Task<void> Close();

  Task<Result<BeginPutResponse>> BeginPut(BeginPutRequest request);
  // Checks the record (pieces sum to the size, each durable), sets its times and commits it.
  // Returns the committed record.
  Task<Result<ObjectRecord>> CommitPut(CommitPutRequest request);
  Result<LayoutResponse> GetLayout(std::string_view container, std::string_view name, const Conditions& conditions);
  Result<LocateExtentsResponse> LocateExtents(const LocateExtentsRequest& request) const;
  Task<Status> ReportExtentFailure(ExtentFailureRequest request);

  // Staged uploads (Namespace's, with the checks of a put: names, durable pieces).
  Task<Result<CreateUploadResponse>> CreateUpload(CreateUploadRequest request);
  Task<Status> StageBlock(StageBlockRequest request);
  Task<Result<ObjectRecord>> CommitBlocks(CommitBlocksRequest request);
  Result<ListBlocksResponse> ListBlocks(const UploadRequest& request);
  Task<Status> AbortUpload(UploadRequest request);
  Result<ListUploadsResponse> ListUploads(const ListUploadsRequest& request);
  Task<Result<NodeReportResponse>> ReportNode(NodeReportRequest request);
  ClusterStatusResponse ClusterStatus();
  // KV-cache namespaces: opened by name (created on first use), looked up by id.
  Task<Result<kv::KvNamespaceResponse>> OpenKvNamespace(kv::KvNamespaceSpec spec);
  Result<kv::KvNamespaceResponse> KvNamespaceById(uint32_t id) const;

  Namespace& names() { return *names_; }
  ExtentManager& extents() { return *extents_; }
  ClusterMap& cluster() { return cluster_; }
  MetadataStore& store() { return *store_; }

 private:
  MetaNode(Env& env, MetaOptions options);
  Status LoadNodes();
  Task<void> MaintainLoop();

  Env& env_;
  MetaOptions options_;
  std::unique_ptr<MetadataStore> owned_store_;
  MetadataStore* store_ = nullptr;
  ClusterMap cluster_;
  std::unique_ptr<Namespace> names_;
  std::unique_ptr<ExtentManager> extents_;
  std::unique_ptr<KvNamespaces> kv_namespaces_;
  CancelSource stopping_;
  std::unique_ptr<TaskGroup> tasks_;
};

}  // namespace cerulean::meta
