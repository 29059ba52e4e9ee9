// KvService: the KV cache's rpc methods on a storage node (docs/protocols/kv_cache.md, "Wire"):
// batched put, get, exists (with leases), remove, pin, unpin and stats, one round trip per
// batch. A namespace the node has not seen is asked of meta once, through `lookup`.
#pragma once

#include <functional>

#include "kv/kv_messages.h"
#include "kv/kv_store.h"
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

  KvStore& store_;
  NamespaceLookup lookup_;
};

}  // namespace cerulean::kv
