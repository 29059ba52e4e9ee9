#include "meta/meta_node.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "base/logging.h"
#include "meta/meta_keys.h"
#include "meta/names.h"
#include "meta/rocksdb_metadata_store.h"
#include "runtime/sleep.h"

namespace cerulean::meta {
MetaNode::MetaNode(Env& env, MetaOptions options)
    : env_(env), options_(std::move(options)), cluster_(options_.cluster) {}

MetaNode::~MetaNode() = default;

Task<Result<std::unique_ptr<MetaNode>>> MetaNode::Open(Env& env, const MetaOptions& options, rpc::RpcClient& storage) {
  if (options.default_replicas == 0 || options.default_replicas > storage::kChainLengthMax) {
    co_return Status::InvalidArgument(fmt::format("{} replicas; a chain has 1 to {}", options.default_replicas,
                                                  storage::kChainLengthMax));
  }
  std::unique_ptr<MetaNode> node(new MetaNode(env, options));
  if (options.store != nullptr) {
    node->store_ = options.store;
  } else {
    CO_RETURN_IF_ERROR(env.CreateDirectories(options.directory));
    auto opened = RocksDbMetadataStore::Open(env, options.directory);
    if (!opened.ok()) co_return opened.status();
    node->owned_store_ = std::move(*opened);
    node->store_ = node->owned_store_.get();
  }
  node->names_ = std::make_unique<Namespace>(env, *node->store_);
  node->extents_ = std::make_unique<ExtentManager>(env, *node->store_, node->cluster_, storage, options.extents);
  node->names_->set_accounting(node->extents_.get());
  node->kv_namespaces_ = std::make_unique<KvNamespaces>(env, *node->store_);
  CO_RETURN_IF_ERROR(node->LoadNodes());
  CO_RETURN_IF_ERROR(node->extents_->Load());
  CO_RETURN_IF_ERROR(node->kv_namespaces_->Load());
  node->tasks_ = std::make_unique<TaskGroup>(env);
  node->tasks_->Spawn(node->MaintainLoop());
  co_return std::move(node);
}

Task<void> MetaNode::Close() {
  stopping_.Cancel(Status::Unavailable("meta is stopping"));
  extents_->StopBackground();
  co_await tasks_->Join();
  co_await extents_->Settle();
  if (owned_store_ != nullptr) co_await owned_store_->Close();
}

Status MetaNode::LoadNodes() {
  const std::string from(1, keys::kNode);
  const std::string to(1, keys::kNode + 1);
  ASSIGN_OR_RETURN(std::vector<MetadataEntry> entries, store_->Scan(from, to, SIZE_MAX));
  for (const MetadataEntry& entry : entries) {
    NodeReport report;
    report.node_id = entry.key.substr(1);
    report.address = entry.value;
    // Known, not yet heard from: the node has down_after to report before it counts as down.
    Status status = cluster_.Report(std::move(report), env_.Now());
    if (!status.ok()) LOG_WARN("meta: stored node {} skipped: {}", entry.key.substr(1), status.ToString());
  }
  return Status::Ok();
}

Task<void> MetaNode::MaintainLoop() {
  while (true) {
    Status slept = co_await Sleep(env_, options_.maintain_every, stopping_.token());
    if (!slept.ok()) co_return;
    co_await extents_->Maintain();
  }
}

Task<Result<BeginPutResponse>> MetaNode::BeginPut(BeginPutRequest request) {
  CO_RETURN_IF_ERROR(ValidateContainerName(request.container));
  CO_RETURN_IF_ERROR(ValidateObjectName(request.name));
  // Refused before the writer moves any data: the container must be there. (The commit checks
  // again: the container could go in between.)
  auto container = names_->GetContainer(request.container);
  if (!container.ok()) co_return container.status();
  const size_t replicas = request.replicas == 0 ? options_.default_replicas : request.replicas;
  BeginPutResponse response;
  CO_ASSIGN_OR_RETURN(response.extents, co_await extents_->Writable(replicas, true, request.extents));
  co_return response;
}

Task<Result<ObjectRecord>> MetaNode::CommitPut(CommitPutRequest request) {
  ObjectRecord& record = request.record;
  uint64_t total = 0;
  for (const Piece& piece : record.pieces) {
    if (piece.length == 0) co_return Status::InvalidArgument("an object's piece holds no bytes");
    total += piece.length;
  }
  if (total != record.size) {
    co_return Status::InvalidArgument(fmt::format("pieces hold {} bytes of a {}-byte object", total, record.size));
  }
  CO_RETURN_IF_ERROR(co_await extents_->CheckDurable(record.pieces));
  record.modified_unix_ns = WallClockUnixNanos();
  record.created_unix_ns = record.modified_unix_ns;  // the namespace keeps an overwritten object's
  Conditions conditions;
  conditions.if_match = std::move(request.if_match);
  conditions.if_none_match = std::move(request.if_none_match);
  ObjectRecord committed = record;
  auto replaced = co_await names_->CommitObject(request.container, request.name, std::move(record),
                                                std::move(conditions));
  if (!replaced.ok()) co_return replaced.status();
  if (*replaced) committed.created_unix_ns = (*replaced)->created_unix_ns;
  co_return committed;
}

Result<LayoutResponse> MetaNode::GetLayout(std::string_view container, std::string_view name,
                                           const Conditions& conditions) {
  LayoutResponse response;
  ASSIGN_OR_RETURN(response.record, names_->HeadObject(container, name, conditions));
  std::vector<uint64_t> seen;
  for (const Piece& piece : response.record.pieces) {
    if (std::find(seen.begin(), seen.end(), piece.extent_id) != seen.end()) continue;
    seen.push_back(piece.extent_id);
    ASSIGN_OR_RETURN(ExtentLocation location, extents_->Locate(piece.extent_id));
    response.extents.push_back(std::move(location));
  }
  return response;
}

Result<LocateExtentsResponse> MetaNode::LocateExtents(const LocateExtentsRequest& request) const {
  LocateExtentsResponse response;
  for (uint64_t id : request.extent_ids) {
    ASSIGN_OR_RETURN(ExtentLocation location, extents_->Locate(id));
    response.extents.push_back(std::move(location));
  }
  return response;
}

Task<Status> MetaNode::ReportExtentFailure(ExtentFailureRequest request) {
  co_return extents_->ReportFailure(request.extent_id, request.reason);
}

Task<Result<CreateUploadResponse>> MetaNode::CreateUpload(CreateUploadRequest request) {
  CreateUploadResponse response;
  response.upload_id = fmt::format("{:016x}{:016x}", env_.Random(), env_.Random());
  UploadRecord record;
  record.created_unix_ns = WallClockUnixNanos();
  record.content_type = std::move(request.content_type);
  record.metadata = std::move(request.metadata);
  record.headers = std::move(request.headers);
  CO_RETURN_IF_ERROR(co_await names_->CreateUpload(UploadKey(request.container, request.name, response.upload_id),
                                                    std::move(record)));
  co_return response;
}

Task<Status> MetaNode::StageBlock(StageBlockRequest request) {
  for (const Piece& piece : request.record.pieces) {
    if (piece.length == 0) co_return Status::InvalidArgument("a block's piece holds no bytes");
  }
  CO_RETURN_IF_ERROR(co_await extents_->CheckDurable(request.record.pieces));
  request.record.created_unix_ns = WallClockUnixNanos();
  const UploadRequest& upload = request.upload;
  co_return co_await names_->StageBlock(UploadKey(upload.container, upload.name, upload.upload_id), request.block_id,
                                        std::move(request.record));
}

Task<Result<ObjectRecord>> MetaNode::CommitBlocks(CommitBlocksRequest request) {
  std::vector<BlockChoice> blocks;
  blocks.reserve(request.blocks.size());
  for (auto& [id, source] : request.blocks) blocks.emplace_back(std::move(id), static_cast<BlockSource>(source));
  ObjectRecord base;
  base.content_type = std::move(request.content_type);
  base.metadata = std::move(request.metadata);
  base.headers = std::move(request.headers);
  base.modified_unix_ns = WallClockUnixNanos();
  base.created_unix_ns = base.modified_unix_ns;
  Conditions conditions;
  conditions.if_match = std::move(request.if_match);
  conditions.if_none_match = std::move(request.if_none_match);
  const UploadRequest& upload = request.upload;
  auto committed = co_await names_->CommitBlocks(UploadKey(upload.container, upload.name, upload.upload_id),
                                                 std::move(blocks), std::move(base), std::move(conditions));
  if (!committed.ok()) co_return committed.status();
  co_return std::move(committed->first);
}

Result<ListBlocksResponse> MetaNode::ListBlocks(const UploadRequest& request) {
  ASSIGN_OR_RETURN(BlockListing listing, names_->ListBlocks(UploadKey(request.container, request.name, request.upload_id)));
  ListBlocksResponse response;
  response.uncommitted = std::move(listing.uncommitted);
  response.committed = std::move(listing.committed);
  return response;
}

Task<Status> MetaNode::AbortUpload(UploadRequest request) {
  co_return co_await names_->AbortUpload(UploadKey(request.container, request.name, request.upload_id));
}

Result<ListUploadsResponse> MetaNode::ListUploads(const ListUploadsRequest& request) {
  ASSIGN_OR_RETURN(UploadListing listing, names_->ListUploads(request.container, request.prefix, request.start_name,
                                                              request.start_upload_id, request.max_results));
  ListUploadsResponse response;
  for (UploadEntry& upload : listing.uploads) {
    response.uploads.emplace_back(std::make_pair(std::move(upload.name), std::move(upload.upload_id)),
                                  std::move(upload.record));
  }
  response.truncated = listing.truncated;
  return response;
}

Task<Result<NodeReportResponse>> MetaNode::ReportNode(NodeReportRequest request) {
  // The id goes into extent records (at most 256 bytes there) and keys: short and plain.
  const bool id_ok = !request.node_id.empty() && request.node_id.size() <= 64 &&
                     std::all_of(request.node_id.begin(), request.node_id.end(),
                                 [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; });
  if (!id_ok) co_return Status::InvalidArgument("a node id is 1 to 64 letters, digits, '-', '_' or '.'");
  auto address = NetAddress::Parse(request.address);
  if (!address.ok()) co_return Status::InvalidArgument(fmt::format("node address: {}", address.status().message()));
  if (address->host == "0.0.0.0" || address->host == "::" || address->port == 0) {
    co_return Status::InvalidArgument(fmt::format("node address {} cannot be dialed: report a routable host:port", request.address));
  }
  NodeReport report;
  report.node_id = request.node_id;
  report.address = request.address;
  for (auto& [path, space] : request.disks) {
    report.disks.push_back(DiskReport{.path = path, .capacity_bytes = space.first, .free_bytes = space.second});
  }
  auto known = cluster_.nodes().find(request.node_id);
  const bool new_address = known == cluster_.nodes().end() || known->second.report.address != request.address;
  CO_RETURN_IF_ERROR(cluster_.Report(std::move(report), env_.Now()));
  if (new_address) {
    LOG_INFO("meta: node {} at {}", request.node_id, request.address);
    MetadataBatch batch;
    batch.Put(keys::Node(request.node_id), request.address);
    CO_RETURN_IF_ERROR(co_await store_->Commit(std::move(batch)));
  }
  NodeReportResponse response;
  response.cluster_version = cluster_.version();
  co_return response;
}

ClusterStatusResponse MetaNode::ClusterStatus() {
  ClusterStatusResponse response;
  response.cluster_version = cluster_.version();
  response.default_replicas = static_cast<uint32_t>(options_.default_replicas);
  const TimePoint now = env_.Now();
  for (const auto& [id, state] : cluster_.nodes()) {
    NodeStatus node;
    node.node_id = id;
    node.address = state.report.address;
    node.up = state.up;
    node.silent_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - state.last_heard).count());
    node.capacity_bytes = state.capacity_bytes();
    node.free_bytes = state.free_bytes();
    node.disks = static_cast<uint32_t>(state.report.disks.size());
    response.nodes.push_back(std::move(node));
  }
  const ExtentStats stats = extents_->Stats();
  response.extents_open = stats.open;
  response.extents_sealing = stats.sealing;
  response.extents_sealed = stats.sealed;
  response.extents_abandoned = stats.abandoned;
  response.committed_bytes = stats.committed_bytes;
  response.garbage_bytes = stats.garbage_bytes;
  response.compaction_candidates = stats.compaction_candidates.size();
  return response;
}

Task<Result<kv::KvNamespaceResponse>> MetaNode::OpenKvNamespace(kv::KvNamespaceSpec spec) {
  kv::KvNamespaceResponse response;
  CO_ASSIGN_OR_RETURN(response.spec, co_await kv_namespaces_->Open(std::move(spec)));
  response.nodes_up = static_cast<uint32_t>(cluster_.up_count());
  co_return response;
}

Result<kv::KvNamespaceResponse> MetaNode::KvNamespaceById(uint32_t id) const {
  kv::KvNamespaceResponse response;
  ASSIGN_OR_RETURN(response.spec, kv_namespaces_->ById(id));
  response.nodes_up = static_cast<uint32_t>(cluster_.up_count());
  return response;
}

}  // namespace cerulean::meta
