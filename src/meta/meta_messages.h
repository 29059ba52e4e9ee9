// Wire messages of the meta service (docs/protocols/metadata.md). Both the service and its
// clients include this header; the field order below is the encoding. Records travel in their
// stored encoding (meta_records.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meta/meta_records.h"
#include "rpc/frame.h"
#include "rpc/wire.h"

namespace cerulean::meta {

inline constexpr uint16_t kMetaService = 4;
inline constexpr uint32_t kCreateContainerMethod = rpc::MethodId(kMetaService, 1);
inline constexpr uint32_t kDeleteContainerMethod = rpc::MethodId(kMetaService, 2);
inline constexpr uint32_t kGetContainerMethod = rpc::MethodId(kMetaService, 3);
inline constexpr uint32_t kListContainersMethod = rpc::MethodId(kMetaService, 4);
inline constexpr uint32_t kSetContainerMetadataMethod = rpc::MethodId(kMetaService, 5);
inline constexpr uint32_t kHeadObjectMethod = rpc::MethodId(kMetaService, 6);
inline constexpr uint32_t kDeleteObjectMethod = rpc::MethodId(kMetaService, 7);
inline constexpr uint32_t kListObjectsMethod = rpc::MethodId(kMetaService, 8);
inline constexpr uint32_t kBeginPutMethod = rpc::MethodId(kMetaService, 9);
inline constexpr uint32_t kCommitPutMethod = rpc::MethodId(kMetaService, 10);
inline constexpr uint32_t kGetLayoutMethod = rpc::MethodId(kMetaService, 11);
inline constexpr uint32_t kLocateExtentsMethod = rpc::MethodId(kMetaService, 12);
inline constexpr uint32_t kReportExtentFailureMethod = rpc::MethodId(kMetaService, 13);
inline constexpr uint32_t kReportNodeMethod = rpc::MethodId(kMetaService, 14);
inline constexpr uint32_t kClusterStatusMethod = rpc::MethodId(kMetaService, 15);
inline constexpr uint32_t kCreateUploadMethod = rpc::MethodId(kMetaService, 16);
inline constexpr uint32_t kStageBlockMethod = rpc::MethodId(kMetaService, 17);
inline constexpr uint32_t kCommitBlocksMethod = rpc::MethodId(kMetaService, 18);
inline constexpr uint32_t kListBlocksMethod = rpc::MethodId(kMetaService, 19);
inline constexpr uint32_t kAbortUploadMethod = rpc::MethodId(kMetaService, 20);
inline constexpr uint32_t kListUploadsMethod = rpc::MethodId(kMetaService, 21);
// KV-cache namespaces (messages in kv/kv_messages.h).
inline constexpr uint32_t kKvOpenNamespaceMethod = rpc::MethodId(kMetaService, 22);
inline constexpr uint32_t kKvNamespaceByIdMethod = rpc::MethodId(kMetaService, 23);
inline constexpr uint32_t kSetObjectPropertiesMethod = rpc::MethodId(kMetaService, 24);

// Extents per begin-put or locate call.
inline constexpr uint32_t kExtentsPerCallMax = 1024;

// Create; delete and get name only the container (the rest is empty).
struct ContainerRequest {
  std::string name;
  ContainerRecord record;  // create: its settings; set metadata: the new metadata
};

struct ContainerResponse {
  ContainerRecord record;
};

struct ListContainersRequest {
  std::string prefix;
  std::string start_after;
  uint32_t max_results = 1000;
};

struct ListContainersResponse {
  std::vector<std::pair<std::string, ContainerRecord>> containers;
  bool truncated = false;
  std::string next_start_after;
};

// Head and delete.
struct ObjectRequest {
  std::string container;
  std::string name;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
};

// Replaces an object's content type and headers, or its metadata, or both, without touching
// its bytes or its ETag.
struct SetObjectPropertiesRequest {
  ObjectRequest object;  // with its conditions
  bool set_content = false;
  std::string content_type;
  ContentHeaders headers;
  bool set_metadata = false;
  UserMetadata metadata;
};

struct ObjectResponse {
  ObjectRecord record;
};

struct ListObjectsRequest {
  std::string container;
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  uint32_t max_results = 1000;
  bool operator==(const ListObjectsRequest&) const = default;
};

// Listed objects carry their records without piece lists (sizes, ETags, times, metadata).
struct ListObjectsResponse {
  std::vector<std::pair<std::string, ObjectRecord>> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_start_after;
};

// The head of an encoded ListObjectsResponse: whether and where the listing goes on.
struct ListContinuation {
  bool truncated = false;
  std::string next_start_after;
};

// Where an extent lives: enough for a client to append to it or read it.
struct ExtentLocation {
  uint64_t extent_id = 0;
  uint64_t chain_version = 0;
  std::vector<std::string> addresses;  // head first; "host:port"
};

// Extents to write an object's pieces to. The container must exist; the name is checked.
struct BeginPutRequest {
  std::string container;
  std::string name;
  uint8_t replicas = 0;     // 0: the cluster's default
  uint32_t extents = 1;     // how many distinct extents the writer would like (its parallelism)
};

struct BeginPutResponse {
  std::vector<ExtentLocation> extents;
};

// Publishes an object whose pieces the writer has appended. Meta sets the times.
struct CommitPutRequest {
  std::string container;
  std::string name;
  ObjectRecord record;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
};

// Get-layout: an object's record and where its extents are.
struct LayoutResponse {
  ObjectRecord record;
  std::vector<ExtentLocation> extents;
};

struct LocateExtentsRequest {
  std::vector<uint64_t> extent_ids;
};

struct LocateExtentsResponse {
  std::vector<ExtentLocation> extents;  // in the order asked
};

struct ExtentFailureRequest {
  uint64_t extent_id = 0;
  std::string reason;
};

// A storage node's registration and heartbeat.
struct NodeReportRequest {
  std::string node_id;
  std::string address;
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> disks;  // path, (capacity, free)
};

struct NodeReportResponse {
  uint64_t cluster_version = 0;
};

struct NodeStatus {
  std::string node_id;
  std::string address;
  bool up = false;
  uint64_t silent_ms = 0;  // since its last report
  uint64_t capacity_bytes = 0;
  uint64_t free_bytes = 0;
  uint32_t disks = 0;
};

struct ClusterStatusResponse {
  uint64_t cluster_version = 0;
  uint32_t default_replicas = 0;
  std::vector<NodeStatus> nodes;
  uint64_t extents_open = 0;
  uint64_t extents_sealing = 0;
  uint64_t extents_sealed = 0;
  uint64_t extents_abandoned = 0;
  uint64_t committed_bytes = 0;
  uint64_t garbage_bytes = 0;
  uint64_t compaction_candidates = 0;
};

// Staged uploads: list blocks and abort name the upload only.
struct UploadRequest {
  std::string container;
  std::string name;
  std::string upload_id;  // empty: the object's implicit (Azure) upload
};

struct CreateUploadRequest {
  std::string container;
  std::string name;
  std::string content_type;
  UserMetadata metadata;
  ContentHeaders headers;
};

struct CreateUploadResponse {
  std::string upload_id;
};

struct StageBlockRequest {
  UploadRequest upload;
  std::string block_id;
  StagedBlockRecord record;  // meta stamps the time
};

struct CommitBlocksRequest {
  UploadRequest upload;
  std::vector<std::pair<std::string, uint8_t>> blocks;  // id and BlockSource, in object order
  std::string content_type;
  UserMetadata metadata;
  ContentHeaders headers;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
};

struct ListBlocksResponse {
  std::vector<std::pair<std::string, StagedBlockRecord>> uncommitted;
  std::vector<std::pair<std::string, uint64_t>> committed;
};

struct ListUploadsRequest {
  std::string container;
  std::string prefix;
  std::string start_name;
  std::string start_upload_id;
  uint32_t max_results = 1000;
};

struct ListUploadsResponse {
  std::vector<std::pair<std::pair<std::string, std::string>, UploadRecord>> uploads;  // (name, upload id), record
  bool truncated = false;
};

void Encode(const UploadRequest& m, rpc::WireWriter& w);
Result<UploadRequest> DecodeUploadRequest(std::span<const std::byte> bytes);
void Encode(const CreateUploadRequest& m, rpc::WireWriter& w);
Result<CreateUploadRequest> DecodeCreateUploadRequest(std::span<const std::byte> bytes);
void Encode(const CreateUploadResponse& m, rpc::WireWriter& w);
Result<CreateUploadResponse> DecodeCreateUploadResponse(std::span<const std::byte> bytes);
void Encode(const StageBlockRequest& m, rpc::WireWriter& w);
Result<StageBlockRequest> DecodeStageBlockRequest(std::span<const std::byte> bytes);
void Encode(const CommitBlocksRequest& m, rpc::WireWriter& w);
Result<CommitBlocksRequest> DecodeCommitBlocksRequest(std::span<const std::byte> bytes);
void Encode(const ListBlocksResponse& m, rpc::WireWriter& w);
Result<ListBlocksResponse> DecodeListBlocksResponse(std::span<const std::byte> bytes);
void Encode(const ListUploadsRequest& m, rpc::WireWriter& w);
Result<ListUploadsRequest> DecodeListUploadsRequest(std::span<const std::byte> bytes);
void Encode(const ListUploadsResponse& m, rpc::WireWriter& w);
Result<ListUploadsResponse> DecodeListUploadsResponse(std::span<const std::byte> bytes);
void Encode(const BeginPutRequest& m, rpc::WireWriter& w);
Result<BeginPutRequest> DecodeBeginPutRequest(std::span<const std::byte> bytes);
void Encode(const BeginPutResponse& m, rpc::WireWriter& w);
Result<BeginPutResponse> DecodeBeginPutResponse(std::span<const std::byte> bytes);
void Encode(const CommitPutRequest& m, rpc::WireWriter& w);
Result<CommitPutRequest> DecodeCommitPutRequest(std::span<const std::byte> bytes);
void Encode(const LayoutResponse& m, rpc::WireWriter& w);
Result<LayoutResponse> DecodeLayoutResponse(std::span<const std::byte> bytes);
void Encode(const LocateExtentsRequest& m, rpc::WireWriter& w);
Result<LocateExtentsRequest> DecodeLocateExtentsRequest(std::span<const std::byte> bytes);
void Encode(const LocateExtentsResponse& m, rpc::WireWriter& w);
Result<LocateExtentsResponse> DecodeLocateExtentsResponse(std::span<const std::byte> bytes);
void Encode(const ExtentFailureRequest& m, rpc::WireWriter& w);
Result<ExtentFailureRequest> DecodeExtentFailureRequest(std::span<const std::byte> bytes);
void Encode(const NodeReportRequest& m, rpc::WireWriter& w);
Result<NodeReportRequest> DecodeNodeReportRequest(std::span<const std::byte> bytes);
void Encode(const NodeReportResponse& m, rpc::WireWriter& w);
Result<NodeReportResponse> DecodeNodeReportResponse(std::span<const std::byte> bytes);
void Encode(const ClusterStatusResponse& m, rpc::WireWriter& w);
Result<ClusterStatusResponse> DecodeClusterStatusResponse(std::span<const std::byte> bytes);
void Encode(const ContainerRequest& m, rpc::WireWriter& w);
Result<ContainerRequest> DecodeContainerRequest(std::span<const std::byte> bytes);
void Encode(const ContainerResponse& m, rpc::WireWriter& w);
Result<ContainerResponse> DecodeContainerResponse(std::span<const std::byte> bytes);
void Encode(const ListContainersRequest& m, rpc::WireWriter& w);
Result<ListContainersRequest> DecodeListContainersRequest(std::span<const std::byte> bytes);
void Encode(const ListContainersResponse& m, rpc::WireWriter& w);
Result<ListContainersResponse> DecodeListContainersResponse(std::span<const std::byte> bytes);
void Encode(const ObjectRequest& m, rpc::WireWriter& w);
void Encode(const SetObjectPropertiesRequest& m, rpc::WireWriter& w);
Result<SetObjectPropertiesRequest> DecodeSetObjectPropertiesRequest(std::span<const std::byte> bytes);
Result<ObjectRequest> DecodeObjectRequest(std::span<const std::byte> bytes);
void Encode(const ObjectResponse& m, rpc::WireWriter& w);
Result<ObjectResponse> DecodeObjectResponse(std::span<const std::byte> bytes);
void Encode(const ListObjectsRequest& m, rpc::WireWriter& w);
Result<ListObjectsRequest> DecodeListObjectsRequest(std::span<const std::byte> bytes);
void Encode(const ListObjectsResponse& m, rpc::WireWriter& w);
Result<ListObjectsResponse> DecodeListObjectsResponse(std::span<const std::byte> bytes);
Result<ListContinuation> PeekListContinuation(std::span<const std::byte> bytes);

}  // namespace cerulean::meta
