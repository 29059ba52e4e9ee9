// KvService: the KV cache's rpc methods on a storage node (docs/protocols/kv_cache.md, "Wire"):
// batched put, get, exists (with leases), remove, pin, unpin and stats, one round trip per
// batch; and the same-host path, where values move through clients' shared-memory regions
// instead of the socket. A namespace the node has not seen is asked of meta once, through
// `lookup`.
#pragma once

#include <functional>

#include "kv/kv_messages.h"
#include "kv/kv_store.h"
#include "shm/shm_regions.h"
#include "rpc/rpc_context.h"
#include "rpc/service_registry.h"

namespace cerulean::kv {

// A namespace's limits on this node, from meta; NotFound if meta has no such namespace.
using NamespaceLookup = std::function<Task<Result<KvNamespaceLimits>>(uint32_t id)>;

// This node's share of a namespace's quota: its keys spread over the nodes that are up, each
// on `replicas` of them.
KvNamespaceLimits LimitsOnNode(const KvNamespaceSpec& spec, uint32_t nodes_up);

class KvService {
 public:
  KvService(KvStore& store, NamespaceLookup lookup) : store_(store), lookup_(std::move(lookup)) {}
  // The service must outlive the registry's server.
  void Register(rpc::ServiceRegistry& registry);

 private:
  enum class KeyOp { kExists, kRemove, kPin, kUnpin, kExpire, kTtl };
  Task<Status> EnsureNamespace(uint32_t ns);
  Task<Status> Put(rpc::RpcContext& context);
  Task<Status> Get(rpc::RpcContext& context);
  Task<Status> Keys(rpc::RpcContext& context, KeyOp op);
  Task<Status> Stats(rpc::RpcContext& context);
  Task<Status> ShmGet(rpc::RpcContext& context);
  Task<Status> ShmPut(rpc::RpcContext& context);
  // The value Get found, read from the SSD tier if it is there; nothing if it left meanwhile.
  Task<Result<std::optional<KvValue>>> Found(uint32_t ns, const KvKey& key, Result<std::optional<KvValue>> found);
  // Stores each entry, its value at values[i]; the outcomes go in `response`.
  Task<void> PutEntries(uint32_t ns, std::span<const KvPutEntry> entries, std::span<const std::span<const std::byte>> values,
                        CancelToken cancel, KvOutcomesResponse& response);

  KvStore& store_;
  NamespaceLookup lookup_;
  shm::ShmRegions regions_;
  uint64_t shm_bytes_ = 0;
};

}  // namespace cerulean::kv
