// MetaService: the meta node's rpc methods (meta_messages.h) over one Namespace: containers
// (create, delete, get, list, set metadata) and objects (head, delete, list). Object puts,
// staged uploads and the cluster map's methods come with extent allocation. Lives on the
// namespace's shard; single loop.
#pragma once

#include "meta/namespace.h"
#include "rpc/service_registry.h"

namespace cerulean::meta {

// Registers the methods; `names` must outlive the registry's server.
void RegisterMetaService(rpc::ServiceRegistry& registry, Namespace& names);

}  // namespace cerulean::meta
