// MetaService: the meta node's rpc methods (meta_messages.h): containers (create, delete, get,
// list, set metadata), objects (begin and commit put, head, get layout, delete, list), extents
// (locate, report a failure) and the cluster map (node reports, status). Lives on the meta
// node's shard; single loop.
#pragma once

#include "meta/meta_node.h"
#include "rpc/service_registry.h"

namespace cerulean::meta {

// Registers the methods; `meta` must outlive the registry's server.
void RegisterMetaService(rpc::ServiceRegistry& registry, MetaNode& meta);

}  // namespace cerulean::meta
