// StorageService: the storage node's rpc methods (storage_messages.h) over one ExtentStore:
// create, append (chain replicated: docs/protocols/chain_replication.md), vectorised read, seal,
// length, delete and stats. Lives on the store's shard; single loop.
#pragma once

#include "rpc/rpc_client.h"
#include "rpc/service_registry.h"
#include "storage/extent_store.h"

namespace cerulean::storage {

// Registers the methods; `store` and `peers` (used to forward appends down the chain) must
// outlive the registry's server.
void RegisterStorageService(rpc::ServiceRegistry& registry, ExtentStore& store, rpc::RpcClient& peers);

}  // namespace cerulean::storage
