// StorageService: the storage node's rpc methods (storage_messages.h) over one ExtentStore:
// create, append, vectorised read, seal, length, delete and stats. Replication along chains
// comes on top of these. Lives on the store's shard; single loop.
#pragma once

#include "rpc/service_registry.h"
#include "storage/extent_store.h"

namespace cerulean::storage {

// Registers the methods; `store` must outlive the registry's server.
void RegisterStorageService(rpc::ServiceRegistry& registry, ExtentStore& store);

}  // namespace cerulean::storage
