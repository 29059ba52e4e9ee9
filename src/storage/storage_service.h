// StorageService: the storage node's rpc methods (storage_messages.h) over one ExtentStore:
// create, append (chain replicated: docs/protocols/chain_replication.md), vectorised read, seal,
// length, delete and stats, and reads that land in a same-host client's shared memory. Lives on
// the store's shard; single loop.
#pragma once

#include "rpc/rpc_client.h"
#include "rpc/service_registry.h"
#include "shm/shm_regions.h"
#include "storage/extent_store.h"

namespace cerulean::storage {

// Registers the methods; `store`, `peers` (used to forward appends down the chain) and `regions`
// (same-host clients' shared memory) must outlive the registry's server.
void RegisterStorageService(rpc::ServiceRegistry& registry, ExtentStore& store, rpc::RpcClient& peers,
                            shm::ShmRegions& regions);

}  // namespace cerulean::storage
