// Wire messages that name a client's shared-memory region to a node (docs/protocols/shared_memory.md).
// The KV service and the storage service each take them on methods of their own.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"
#include "rpc/wire.h"

namespace cerulean::shm {

// A client's shared-memory region: the memfd `fd` of process `pid`, named `name` (the node
// opens /proc/<pid>/fd/<fd> and maps it only if the link names that memfd).
struct RegisterRequest {
  uint64_t region = 0;  // the client's id for it
  uint32_t pid = 0;
  int32_t fd = -1;
  uint64_t bytes = 0;
  std::string name;
};

// A node's answer to a registration: memory of its own that the client may map read-only and
// copy from (a storage node's read cache, storage/payload_cache.h), named as a client's region
// is. `bytes` 0 (or an empty answer): none.
struct RegisterResponse {
  uint64_t bytes = 0;
  uint32_t pid = 0;
  int32_t fd = -1;
  std::string name;
};

struct UnregisterRequest {
  uint64_t region = 0;
};

void Encode(const RegisterRequest& m, rpc::WireWriter& w);
Result<RegisterRequest> DecodeRegisterRequest(std::span<const std::byte> bytes);
void Encode(const RegisterResponse& m, rpc::WireWriter& w);
Result<RegisterResponse> DecodeRegisterResponse(std::span<const std::byte> bytes);
void Encode(const UnregisterRequest& m, rpc::WireWriter& w);
Result<UnregisterRequest> DecodeUnregisterRequest(std::span<const std::byte> bytes);

}  // namespace cerulean::shm
