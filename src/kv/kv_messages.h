// Wire messages of the KV service on storage nodes, and of the KV namespace registry on meta
// (docs/protocols/kv_cache.md, "Wire"). The field order below is the encoding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kv/kv_key.h"
#include "rpc/frame.h"
#include "rpc/wire.h"

namespace cerulean::kv {

inline constexpr uint16_t kKvService = 5;
inline constexpr uint32_t kKvPutMethod = rpc::MethodId(kKvService, 1);
inline constexpr uint32_t kKvGetMethod = rpc::MethodId(kKvService, 2);
inline constexpr uint32_t kKvExistsMethod = rpc::MethodId(kKvService, 3);
inline constexpr uint32_t kKvRemoveMethod = rpc::MethodId(kKvService, 4);
inline constexpr uint32_t kKvPinMethod = rpc::MethodId(kKvService, 5);
inline constexpr uint32_t kKvUnpinMethod = rpc::MethodId(kKvService, 6);
inline constexpr uint32_t kKvStatsMethod = rpc::MethodId(kKvService, 7);
inline constexpr uint32_t kKvExpireMethod = rpc::MethodId(kKvService, 8);
inline constexpr uint32_t kKvTtlMethod = rpc::MethodId(kKvService, 9);
// The same-host path (docs/protocols/kv_cache.md, "Same-host shared memory"). Register and
// unregister take shm::RegisterRequest and shm::UnregisterRequest (shm/shm_messages.h).
inline constexpr uint32_t kKvShmRegisterMethod = rpc::MethodId(kKvService, 10);
inline constexpr uint32_t kKvShmUnregisterMethod = rpc::MethodId(kKvService, 11);
inline constexpr uint32_t kKvShmGetMethod = rpc::MethodId(kKvService, 12);
inline constexpr uint32_t kKvShmPutMethod = rpc::MethodId(kKvService, 13);

// Keys per call, and value bytes per put or get call: what one rpc frame may carry.
inline constexpr uint32_t kKvBatchMax = 4096;
inline constexpr uint64_t kKvBatchBytesMax = rpc::FrameLimits{}.payload_bytes_max;

// A namespace as meta keeps it; a node enforces its share (KvNamespaceLimits).
struct KvNamespaceSpec {
  uint32_t id = 0;  // assigned by meta
  std::string name;
  uint8_t replicas = 1;
  uint64_t quota_bytes = 0;  // 0: none
  uint32_t value_bytes_max = 64u << 20;
  uint32_t pieces_max = 4096;
  uint32_t default_ttl_s = 0;
};

struct KvOpenNamespaceRequest {
  KvNamespaceSpec spec;  // id ignored
};
struct KvNamespaceByIdRequest {
  uint32_t id = 0;
};
struct KvNamespaceResponse {
  KvNamespaceSpec spec;
  uint32_t nodes_up = 0;  // for a node's share of the quota
};

struct KvPutEntry {
  KvKey key;
  uint32_t ttl_s = 0;
  bool pin = false;
  std::vector<uint32_t> piece_bytes;
  uint64_t value_bytes = 0;
  uint32_t value_crc = 0;
};
// The payload is the entries' values back to back, in order.
struct KvPutRequest {
  uint32_t ns = 0;
  std::vector<KvPutEntry> entries;
};

// Get, exists, remove, pin, unpin, expire and ttl.
struct KvKeysRequest {
  uint32_t ns = 0;
  bool lease = false;  // exists only
  uint32_t ttl_s = 0;  // expire only
  std::vector<KvKey> keys;
};

// One key's result: put (flag: already present), exists, remove, pin, unpin, expire (flag:
// present), ttl (number: seconds left, -1 none, -2 absent).
struct KvOutcome {
  StatusCode code = StatusCode::kOk;
  std::string message;
  bool flag = false;
  int64_t number = 0;
};
struct KvOutcomesResponse {
  std::vector<KvOutcome> outcomes;
};

struct KvGetEntry {
  StatusCode code = StatusCode::kOk;
  std::string message;
  bool found = false;
  std::vector<uint32_t> piece_bytes;
  uint64_t value_bytes = 0;
};
// The payload is the found values back to back, in order.
struct KvGetResponse {
  std::vector<KvGetEntry> entries;
};

// A place in a region: `bytes` bytes at `offset`.
struct KvShmSpan {
  uint64_t offset = 0;
  uint32_t bytes = 0;
};
// Get into a region: each key's pieces go to its spans, one per piece. The response is a
// KvGetResponse with no payload; a value whose pieces do not match its spans is InvalidArgument.
struct KvShmGetRequest {
  uint32_t ns = 0;
  uint64_t region = 0;
  std::vector<KvKey> keys;
  std::vector<std::vector<KvShmSpan>> pieces;  // per key
};
// Put from a region: each entry's value is `value_bytes` bytes at its source offset.
// The response is a KvOutcomesResponse.
struct KvShmPutRequest {
  uint32_t ns = 0;
  uint64_t region = 0;
  std::vector<KvPutEntry> entries;
  std::vector<uint64_t> sources;  // per entry
};

struct KvStatsResponse {
  uint64_t entries = 0;
  uint64_t dram_capacity_bytes = 0;
  uint64_t dram_used_bytes = 0;
  uint64_t live_value_bytes = 0;
  uint64_t index_bytes = 0;
  uint64_t gets = 0, hits = 0, puts = 0, stored = 0, evicted = 0, expired = 0;
  uint64_t ssd_capacity_bytes = 0, ssd_used_bytes = 0;
  uint64_t ssd_hits = 0, demoted = 0, promoted = 0, ssd_evicted = 0;
  uint64_t shm_regions = 0, shm_bytes = 0;  // same-host regions mapped; value bytes moved through them
};

void Encode(const KvNamespaceSpec& m, rpc::WireWriter& w);
Result<KvNamespaceSpec> DecodeKvNamespaceSpec(rpc::WireReader& r);
void Encode(const KvOpenNamespaceRequest& m, rpc::WireWriter& w);
Result<KvOpenNamespaceRequest> DecodeKvOpenNamespaceRequest(std::span<const std::byte> bytes);
void Encode(const KvNamespaceByIdRequest& m, rpc::WireWriter& w);
Result<KvNamespaceByIdRequest> DecodeKvNamespaceByIdRequest(std::span<const std::byte> bytes);
void Encode(const KvNamespaceResponse& m, rpc::WireWriter& w);
Result<KvNamespaceResponse> DecodeKvNamespaceResponse(std::span<const std::byte> bytes);
void Encode(const KvPutRequest& m, rpc::WireWriter& w);
Result<KvPutRequest> DecodeKvPutRequest(std::span<const std::byte> bytes);
void Encode(const KvKeysRequest& m, rpc::WireWriter& w);
Result<KvKeysRequest> DecodeKvKeysRequest(std::span<const std::byte> bytes);
void Encode(const KvOutcomesResponse& m, rpc::WireWriter& w);
Result<KvOutcomesResponse> DecodeKvOutcomesResponse(std::span<const std::byte> bytes);
void Encode(const KvGetResponse& m, rpc::WireWriter& w);
Result<KvGetResponse> DecodeKvGetResponse(std::span<const std::byte> bytes);
void Encode(const KvShmGetRequest& m, rpc::WireWriter& w);
Result<KvShmGetRequest> DecodeKvShmGetRequest(std::span<const std::byte> bytes);
void Encode(const KvShmPutRequest& m, rpc::WireWriter& w);
Result<KvShmPutRequest> DecodeKvShmPutRequest(std::span<const std::byte> bytes);
void Encode(const KvStatsResponse& m, rpc::WireWriter& w);
Result<KvStatsResponse> DecodeKvStatsResponse(std::span<const std::byte> bytes);

// Namespace names: "<tenant>/<model>/<dtype>/<layout>/tp<r>/pp<r>", each part 1-128 printable
// ASCII bytes without '/' (tenant and layout may be empty).
Status ValidateKvNamespaceSpec(const KvNamespaceSpec& spec);

}  // namespace cerulean::kv
