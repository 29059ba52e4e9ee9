// Wire messages of the storage service (docs/protocols/storage_service.md). Both the service and
// its clients include this header; the field order below is the encoding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rpc/frame.h"
#include "rpc/wire.h"
#include "storage/extent_format.h"

namespace cerulean::storage {

inline constexpr uint16_t kStorageService = 3;
inline constexpr uint32_t kCreateExtentMethod = rpc::MethodId(kStorageService, 1);
inline constexpr uint32_t kAppendMethod = rpc::MethodId(kStorageService, 2);
inline constexpr uint32_t kReadMethod = rpc::MethodId(kStorageService, 3);
inline constexpr uint32_t kSealMethod = rpc::MethodId(kStorageService, 4);
inline constexpr uint32_t kExtentLengthMethod = rpc::MethodId(kStorageService, 5);
inline constexpr uint32_t kDeleteExtentMethod = rpc::MethodId(kStorageService, 6);
inline constexpr uint32_t kStorageStatsMethod = rpc::MethodId(kStorageService, 7);
inline constexpr uint32_t kReadRecordsMethod = rpc::MethodId(kStorageService, 8);
inline constexpr uint32_t kReplicateMethod = rpc::MethodId(kStorageService, 9);
// Takes an ExtentRequest; answers an ExtentLengthResponse once the extent takes no new appends
// and those accepted have landed (ExtentStore::Freeze): the first half of a seal.
inline constexpr uint32_t kFreezeExtentMethod = rpc::MethodId(kStorageService, 14);
// The same-host path (docs/protocols/storage_service.md, "Same-host reads and appends").
// Register and unregister take shm::RegisterRequest and shm::UnregisterRequest.
inline constexpr uint32_t kShmRegisterMethod = rpc::MethodId(kStorageService, 10);
inline constexpr uint32_t kShmUnregisterMethod = rpc::MethodId(kStorageService, 11);
inline constexpr uint32_t kReadSharedMethod = rpc::MethodId(kStorageService, 12);
inline constexpr uint32_t kAppendSharedMethod = rpc::MethodId(kStorageService, 13);

// Ranges per read call, and bytes per read response.
inline constexpr uint32_t kReadRangesMax = 1024;
inline constexpr uint64_t kReadResponseBytesMax = 64ull << 20;

// Replicas per chain, head included.
inline constexpr size_t kChainLengthMax = 3;

struct CreateExtentRequest {
  uint64_t extent_id = 0;
  Durability durability = Durability::kSync;
  uint64_t chain_version = 0;
};

// The payload is the record's bytes (docs/protocols/chain_replication.md).
struct AppendRequest {
  uint64_t extent_id = 0;
  uint64_t chain_version = 0;
  OwnerId owner;
  uint64_t expected_offset = UINT64_MAX;  // UINT64_MAX from the client: the head picks it
  std::vector<std::string> successors;     // "host:port" of the rest of the chain, in order
};

struct AppendResponse {
  uint64_t record_offset = 0;
  uint64_t sequence = 0;
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;
  uint64_t extent_length = 0;
};

struct ReadRange {
  uint64_t extent_id = 0;
  uint64_t record_offset = 0;
  uint64_t offset_in_payload = 0;
  uint64_t length = 0;
};

struct ReadRequest {
  std::vector<ReadRange> ranges;
};

// One outcome per range, in order; the payload holds the bytes of the ranges that succeeded,
// concatenated in order.
struct ReadOutcome {
  StatusCode code = StatusCode::kOk;
  uint64_t length = 0;  // bytes of this range in the payload (0 unless ok)
};

struct ReadResponse {
  std::vector<ReadOutcome> outcomes;
};

// An append whose payload is in the caller's registered shared region instead of the request:
// `bytes` bytes at `at` (4 KiB-aligned), with `room` bytes there for the node to pad them to
// 4 KiB. The node writes them to disk from there and forwards them down the chain; the response
// is an AppendResponse.
struct AppendSharedRequest {
  AppendRequest append;
  uint64_t region = 0;
  uint64_t at = 0;
  uint64_t bytes = 0;
  uint64_t room = 0;
  uint32_t payload_crc = 0;  // the client's, checked as the node computes the record's
};

// A read whose bytes land in the caller's registered shared region instead of a response
// payload: range i is read from disk into region bytes [at[i], at[i] + room[i]) (4 KiB-aligned,
// room at least ReadLandingBytes(length)) and verified there.
struct SharedReadRange {
  ReadRange range;
  uint64_t at = 0;
  uint64_t room = 0;
};

struct ReadSharedRequest {
  uint64_t region = 0;
  // The client maps this node's read cache (shm::RegisterResponse): bytes that are in it may be
  // answered from there instead of copied into the region.
  bool from_cache = false;
  std::vector<SharedReadRange> ranges;
};

// Where each range's verified bytes begin in the region (`at` plus the header and the part of
// the first sub-block before the range, or `at` itself for bytes copied there), or in the node's
// read cache (`in_cache`), and their CRC32C.
struct SharedReadOutcome {
  StatusCode code = StatusCode::kOk;
  bool in_cache = false;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t crc = 0;
};

struct ReadSharedResponse {
  std::vector<SharedReadOutcome> outcomes;
};

struct SealRequest {
  uint64_t extent_id = 0;
  uint64_t length = 0;
};

struct ExtentRequest {  // length query and delete
  uint64_t extent_id = 0;
};

struct ExtentLengthResponse {
  uint64_t length = 0;
  bool sealed = false;
};

struct StorageStatsResponse {
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t reserve_bytes = 0;
  uint64_t extent_count = 0;
  // Latency percentiles since start, in nanoseconds (bucket upper bounds).
  uint64_t append_latency_p50_ns = 0;
  uint64_t append_latency_p99_ns = 0;
  uint64_t read_latency_p50_ns = 0;
  uint64_t read_latency_p99_ns = 0;
  uint64_t appends = 0;
  uint64_t data_loss_events = 0;
};

// Whole records as stored, for re-replication.
struct ReadRecordsRequest {
  uint64_t extent_id = 0;
  uint64_t from_offset = 0;  // a record boundary
  uint64_t bytes_max = 0;    // at least one record is returned
};

// The payload holds the records [from_offset, end_offset), header blocks and padded payloads.
struct ReadRecordsResponse {
  uint64_t end_offset = 0;
  uint64_t extent_length = 0;
  bool sealed = false;
  Durability durability = Durability::kSync;
  uint64_t chain_version = 0;
};

// Asks a node to copy extent `extent_id` up to `length` from `source` (creating it if it has
// none), verifying every record, and to seal it there if `seal`.
struct ReplicateRequest {
  uint64_t extent_id = 0;
  std::string source;
  uint64_t length = 0;
  bool seal = false;
};

void Encode(const CreateExtentRequest& m, rpc::WireWriter& w);
void Encode(const ReadRecordsRequest& m, rpc::WireWriter& w);
Result<ReadRecordsRequest> DecodeReadRecordsRequest(std::span<const std::byte> bytes);
void Encode(const ReadRecordsResponse& m, rpc::WireWriter& w);
Result<ReadRecordsResponse> DecodeReadRecordsResponse(std::span<const std::byte> bytes);
void Encode(const ReplicateRequest& m, rpc::WireWriter& w);
Result<ReplicateRequest> DecodeReplicateRequest(std::span<const std::byte> bytes);
Result<CreateExtentRequest> DecodeCreateExtentRequest(std::span<const std::byte> bytes);
void Encode(const AppendRequest& m, rpc::WireWriter& w);
Result<AppendRequest> DecodeAppendRequest(std::span<const std::byte> bytes);
void Encode(const AppendResponse& m, rpc::WireWriter& w);
Result<AppendResponse> DecodeAppendResponse(std::span<const std::byte> bytes);
void Encode(const ReadRequest& m, rpc::WireWriter& w);
Result<ReadRequest> DecodeReadRequest(std::span<const std::byte> bytes);
void Encode(const ReadResponse& m, rpc::WireWriter& w);
Result<ReadResponse> DecodeReadResponse(std::span<const std::byte> bytes);
void Encode(const AppendSharedRequest& m, rpc::WireWriter& w);
Result<AppendSharedRequest> DecodeAppendSharedRequest(std::span<const std::byte> bytes);
void Encode(const ReadSharedRequest& m, rpc::WireWriter& w);
Result<ReadSharedRequest> DecodeReadSharedRequest(std::span<const std::byte> bytes);
void Encode(const ReadSharedResponse& m, rpc::WireWriter& w);
Result<ReadSharedResponse> DecodeReadSharedResponse(std::span<const std::byte> bytes);
void Encode(const SealRequest& m, rpc::WireWriter& w);
Result<SealRequest> DecodeSealRequest(std::span<const std::byte> bytes);
void Encode(const ExtentRequest& m, rpc::WireWriter& w);
Result<ExtentRequest> DecodeExtentRequest(std::span<const std::byte> bytes);
void Encode(const ExtentLengthResponse& m, rpc::WireWriter& w);
Result<ExtentLengthResponse> DecodeExtentLengthResponse(std::span<const std::byte> bytes);
void Encode(const StorageStatsResponse& m, rpc::WireWriter& w);
Result<StorageStatsResponse> DecodeStorageStatsResponse(std::span<const std::byte> bytes);

}  // namespace cerulean::storage
