// The register and unregister methods' handlers over a node's ShmRegions, for every service
// that offers them (the KV cache's and the storage service, each under its own method ids).
#pragma once

#include "rpc/rpc_context.h"
#include "runtime/task.h"
#include "shm/shm_regions.h"

namespace cerulean::shm {

Task<Status> HandleRegister(ShmRegions& regions, rpc::RpcContext& context);
Task<Status> HandleUnregister(ShmRegions& regions, rpc::RpcContext& context);

}  // namespace cerulean::shm
