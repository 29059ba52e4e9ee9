#include "meta/meta_messages.h"

#include <fmt/format.h>

#include "meta/names.h"

namespace cerulean::meta {
namespace {

using rpc::WireReader;
using rpc::WireWriter;

constexpr uint32_t kNameBytesMax = kObjectNameBytesMax;
constexpr uint32_t kRecordBytesMax = 64u << 20;
constexpr uint32_t kListedMax = 5000;

// A record inside a message is its stored encoding; one that does not decode is a bad message.
template <typename T>
Result<T> BadMessageIfNot(Result<T> result) {
  if (result.ok()) return result;
  return Status::InvalidArgument(std::string(result.status().message()));
}

// Records are decoded in place, from a view of the message.
std::string_view RecordView(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Result<ContainerRecord> ReadContainerRecord(WireReader& r) {
  ASSIGN_OR_RETURN(std::span<const std::byte> bytes, r.Bytes(kRecordBytesMax));
  return BadMessageIfNot(DecodeContainerRecord(RecordView(bytes)));
}

Result<ObjectRecord> ReadObjectRecord(WireReader& r) {
  ASSIGN_OR_RETURN(std::span<const std::byte> bytes, r.Bytes(kRecordBytesMax));
  return BadMessageIfNot(DecodeObjectRecord(RecordView(bytes)));
}

// A listed object: its record without the piece list, which a listing does not need and which
// would make a page of large objects megabytes long.
void WriteObjectSummary(const ObjectRecord& record, WireWriter& w) {
  w.U64(record.size);
  w.String(record.etag);
  w.String(record.content_type);
  EncodeMetadata(record.metadata, w);
  w.I64(record.created_unix_ns);
  w.I64(record.modified_unix_ns);
  w.U32(record.crc32c);
  EncodeContentHeaders(record.headers, w);
}

Result<ObjectRecord> ReadObjectSummary(WireReader& r) {
  ObjectRecord record;
  ASSIGN_OR_RETURN(record.size, r.U64());
  ASSIGN_OR_RETURN(record.etag, r.String(1024));
  ASSIGN_OR_RETURN(record.content_type, r.String(1024));
  ASSIGN_OR_RETURN(record.metadata, BadMessageIfNot(DecodeMetadata(r)));
  ASSIGN_OR_RETURN(record.created_unix_ns, r.I64());
  ASSIGN_OR_RETURN(record.modified_unix_ns, r.I64());
  ASSIGN_OR_RETURN(record.crc32c, r.U32());
  ASSIGN_OR_RETURN(record.headers, BadMessageIfNot(DecodeContentHeaders(r)));
  return record;
}

void WriteOptional(const std::optional<std::string>& value, WireWriter& w) {
  w.Bool(value.has_value());
  if (value) w.String(*value);
}

Result<std::optional<std::string>> ReadOptional(WireReader& r) {
  ASSIGN_OR_RETURN(bool present, r.Bool());
  if (!present) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string value, r.String(kNameBytesMax));
  return std::optional<std::string>(std::move(value));
}

Result<uint32_t> ReadCount(WireReader& r) {
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kListedMax) return Status::InvalidArgument(fmt::format("{} entries; a page holds at most {}", count, kListedMax));
  return count;
}

constexpr uint32_t kAddressBytesMax = 300;
constexpr uint32_t kLocationsMax = 1u << 20;
constexpr uint32_t kNodesMax = 4096;
constexpr uint32_t kDisksMax = 256;

void WriteLocations(const std::vector<ExtentLocation>& locations, WireWriter& w) {
  w.U32(static_cast<uint32_t>(locations.size()));
  for (const ExtentLocation& location : locations) {
    w.U64(location.extent_id);
    w.U64(location.chain_version);
    w.U8(static_cast<uint8_t>(location.addresses.size()));
    for (const std::string& address : location.addresses) w.String(address);
  }
}

Result<std::vector<ExtentLocation>> ReadLocations(WireReader& r) {
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  // A layout names every extent of its object (a 10 TiB object, some 10,000); each takes at
  // least 17 bytes, which bounds the count by the message.
  if (count > kLocationsMax || count > r.remaining() / 17) {
    return Status::InvalidArgument(fmt::format("{} extent locations do not fit the message", count));
  }
  std::vector<ExtentLocation> locations(count);
  for (ExtentLocation& location : locations) {
    ASSIGN_OR_RETURN(location.extent_id, r.U64());
    ASSIGN_OR_RETURN(location.chain_version, r.U64());
    ASSIGN_OR_RETURN(uint8_t replicas, r.U8());
    if (replicas > 3) return Status::InvalidArgument(fmt::format("a chain of {} replicas", replicas));
    for (uint8_t i = 0; i < replicas; i++) {
      ASSIGN_OR_RETURN(std::string address, r.String(kAddressBytesMax));
      location.addresses.push_back(std::move(address));
    }
  }
  return locations;
}

constexpr uint32_t kBlocksPerCommitMax = 100'000;
constexpr uint32_t kBlockIdMax = 1024;
constexpr uint32_t kUploadIdMax = 128;

Result<StagedBlockRecord> ReadStagedBlockRecord(WireReader& r) {
  ASSIGN_OR_RETURN(std::string bytes, r.String(kRecordBytesMax));
  return BadMessageIfNot(DecodeStagedBlockRecord(bytes));
}

Result<UploadRecord> ReadUploadRecord(WireReader& r) {
  ASSIGN_OR_RETURN(std::string bytes, r.String(kRecordBytesMax));
  return BadMessageIfNot(DecodeUploadRecord(bytes));
}

Result<UploadRequest> ReadUpload(WireReader& r) {
  UploadRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.upload_id, r.String(kUploadIdMax));
  return m;
}

// Content type and metadata travel as an upload record, which checks their limits.
void WriteProperties(const std::string& content_type, const UserMetadata& metadata, const ContentHeaders& headers,
                     WireWriter& w) {
  UploadRecord properties;
  properties.content_type = content_type;
  properties.metadata = metadata;
  properties.headers = headers;
  w.String(EncodeUploadRecord(properties));
}

}  // namespace

void Encode(const UploadRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.name);
  w.String(m.upload_id);
}

Result<UploadRequest> DecodeUploadRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ASSIGN_OR_RETURN(UploadRequest m, ReadUpload(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const CreateUploadRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.name);
  WriteProperties(m.content_type, m.metadata, m.headers, w);
}

Result<CreateUploadRequest> DecodeCreateUploadRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  CreateUploadRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(UploadRecord properties, ReadUploadRecord(r));
  m.content_type = std::move(properties.content_type);
  m.metadata = std::move(properties.metadata);
  m.headers = std::move(properties.headers);
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const CreateUploadResponse& m, WireWriter& w) { w.String(m.upload_id); }

Result<CreateUploadResponse> DecodeCreateUploadResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  CreateUploadResponse m;
  ASSIGN_OR_RETURN(m.upload_id, r.String(kUploadIdMax));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const StageBlockRequest& m, WireWriter& w) {
  Encode(m.upload, w);
  w.String(m.block_id);
  w.String(EncodeStagedBlockRecord(m.record));
}

Result<StageBlockRequest> DecodeStageBlockRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  StageBlockRequest m;
  ASSIGN_OR_RETURN(m.upload, ReadUpload(r));
  ASSIGN_OR_RETURN(m.block_id, r.String(kBlockIdMax));
  ASSIGN_OR_RETURN(m.record, ReadStagedBlockRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const CommitBlocksRequest& m, WireWriter& w) {
  Encode(m.upload, w);
  w.U32(static_cast<uint32_t>(m.blocks.size()));
  for (const auto& [id, source] : m.blocks) {
    w.String(id);
    w.U8(source);
  }
  WriteProperties(m.content_type, m.metadata, m.headers, w);
  WriteOptional(m.if_match, w);
  WriteOptional(m.if_none_match, w);
}

Result<CommitBlocksRequest> DecodeCommitBlocksRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  CommitBlocksRequest m;
  ASSIGN_OR_RETURN(m.upload, ReadUpload(r));
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kBlocksPerCommitMax || count > r.remaining() / 5) {
    return Status::InvalidArgument(fmt::format("{} blocks; a commit takes at most {}", count, kBlocksPerCommitMax));
  }
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(std::string id, r.String(kBlockIdMax));
    ASSIGN_OR_RETURN(uint8_t source, r.U8());
    if (source > 2) return Status::InvalidArgument(fmt::format("block source {}", source));
    m.blocks.emplace_back(std::move(id), source);
  }
  ASSIGN_OR_RETURN(UploadRecord properties, ReadUploadRecord(r));
  m.content_type = std::move(properties.content_type);
  m.metadata = std::move(properties.metadata);
  m.headers = std::move(properties.headers);
  ASSIGN_OR_RETURN(m.if_match, ReadOptional(r));
  ASSIGN_OR_RETURN(m.if_none_match, ReadOptional(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListBlocksResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.uncommitted.size()));
  for (const auto& [id, record] : m.uncommitted) {
    w.String(id);
    w.String(EncodeStagedBlockRecord(record));
  }
  w.U32(static_cast<uint32_t>(m.committed.size()));
  for (const auto& [id, size] : m.committed) {
    w.String(id);
    w.U64(size);
  }
}

Result<ListBlocksResponse> DecodeListBlocksResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListBlocksResponse m;
  ASSIGN_OR_RETURN(uint32_t uncommitted, r.U32());
  if (uncommitted > kBlocksPerCommitMax) return Status::InvalidArgument(fmt::format("{} blocks", uncommitted));
  for (uint32_t i = 0; i < uncommitted; i++) {
    ASSIGN_OR_RETURN(std::string id, r.String(kBlockIdMax));
    ASSIGN_OR_RETURN(StagedBlockRecord record, ReadStagedBlockRecord(r));
    m.uncommitted.emplace_back(std::move(id), std::move(record));
  }
  ASSIGN_OR_RETURN(uint32_t committed, r.U32());
  if (committed > kBlocksPerCommitMax) return Status::InvalidArgument(fmt::format("{} blocks", committed));
  for (uint32_t i = 0; i < committed; i++) {
    ASSIGN_OR_RETURN(std::string id, r.String(kBlockIdMax));
    ASSIGN_OR_RETURN(uint64_t size, r.U64());
    m.committed.emplace_back(std::move(id), size);
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListUploadsRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.prefix);
  w.String(m.start_name);
  w.String(m.start_upload_id);
  w.U32(m.max_results);
}

Result<ListUploadsRequest> DecodeListUploadsRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListUploadsRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.prefix, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.start_name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.start_upload_id, r.String(kUploadIdMax));
  ASSIGN_OR_RETURN(m.max_results, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListUploadsResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.uploads.size()));
  for (const auto& [key, record] : m.uploads) {
    w.String(key.first);
    w.String(key.second);
    w.String(EncodeUploadRecord(record));
  }
  w.Bool(m.truncated);
}

Result<ListUploadsResponse> DecodeListUploadsResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListUploadsResponse m;
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r));
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(std::string name, r.String(kNameBytesMax));
    ASSIGN_OR_RETURN(std::string upload_id, r.String(kUploadIdMax));
    ASSIGN_OR_RETURN(UploadRecord record, ReadUploadRecord(r));
    m.uploads.emplace_back(std::make_pair(std::move(name), std::move(upload_id)), std::move(record));
  }
  ASSIGN_OR_RETURN(m.truncated, r.Bool());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const BeginPutRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.name);
  w.U8(m.replicas);
  w.U32(m.extents);
}

Result<BeginPutRequest> DecodeBeginPutRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  BeginPutRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.replicas, r.U8());
  ASSIGN_OR_RETURN(m.extents, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const BeginPutResponse& m, WireWriter& w) { WriteLocations(m.extents, w); }

Result<BeginPutResponse> DecodeBeginPutResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  BeginPutResponse m;
  ASSIGN_OR_RETURN(m.extents, ReadLocations(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const CommitPutRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.name);
  w.String(EncodeObjectRecord(m.record));
  WriteOptional(m.if_match, w);
  WriteOptional(m.if_none_match, w);
}

Result<CommitPutRequest> DecodeCommitPutRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  CommitPutRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.record, ReadObjectRecord(r));
  ASSIGN_OR_RETURN(m.if_match, ReadOptional(r));
  ASSIGN_OR_RETURN(m.if_none_match, ReadOptional(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const LayoutResponse& m, WireWriter& w) {
  w.String(EncodeObjectRecord(m.record));
  WriteLocations(m.extents, w);
}

Result<LayoutResponse> DecodeLayoutResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  LayoutResponse m;
  ASSIGN_OR_RETURN(m.record, ReadObjectRecord(r));
  ASSIGN_OR_RETURN(m.extents, ReadLocations(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const LocateExtentsRequest& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.extent_ids.size()));
  for (uint64_t id : m.extent_ids) w.U64(id);
}

Result<LocateExtentsRequest> DecodeLocateExtentsRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  LocateExtentsRequest m;
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kExtentsPerCallMax) return Status::InvalidArgument(fmt::format("{} extents; at most {} per call", count, kExtentsPerCallMax));
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(uint64_t id, r.U64());
    m.extent_ids.push_back(id);
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const LocateExtentsResponse& m, WireWriter& w) { WriteLocations(m.extents, w); }

Result<LocateExtentsResponse> DecodeLocateExtentsResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  LocateExtentsResponse m;
  ASSIGN_OR_RETURN(m.extents, ReadLocations(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ExtentFailureRequest& m, WireWriter& w) {
  w.U64(m.extent_id);
  w.String(m.reason);
}

Result<ExtentFailureRequest> DecodeExtentFailureRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ExtentFailureRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  ASSIGN_OR_RETURN(m.reason, r.String(4096));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const NodeReportRequest& m, WireWriter& w) {
  w.String(m.node_id);
  w.String(m.address);
  w.U32(static_cast<uint32_t>(m.disks.size()));
  for (const auto& [path, space] : m.disks) {
    w.String(path);
    w.U64(space.first);
    w.U64(space.second);
  }
}

Result<NodeReportRequest> DecodeNodeReportRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  NodeReportRequest m;
  ASSIGN_OR_RETURN(m.node_id, r.String(kAddressBytesMax));
  ASSIGN_OR_RETURN(m.address, r.String(kAddressBytesMax));
  ASSIGN_OR_RETURN(uint32_t disks, r.U32());
  if (disks > kDisksMax) return Status::InvalidArgument(fmt::format("{} disks; at most {}", disks, kDisksMax));
  for (uint32_t i = 0; i < disks; i++) {
    ASSIGN_OR_RETURN(std::string path, r.String(4096));
    ASSIGN_OR_RETURN(uint64_t capacity, r.U64());
    ASSIGN_OR_RETURN(uint64_t free, r.U64());
    m.disks.emplace_back(std::move(path), std::make_pair(capacity, free));
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const NodeReportResponse& m, WireWriter& w) { w.U64(m.cluster_version); }

Result<NodeReportResponse> DecodeNodeReportResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  NodeReportResponse m;
  ASSIGN_OR_RETURN(m.cluster_version, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ClusterStatusResponse& m, WireWriter& w) {
  w.U64(m.cluster_version);
  w.U32(m.default_replicas);
  w.U32(static_cast<uint32_t>(m.nodes.size()));
  for (const NodeStatus& node : m.nodes) {
    w.String(node.node_id);
    w.String(node.address);
    w.Bool(node.up);
    w.U64(node.silent_ms);
    w.U64(node.capacity_bytes);
    w.U64(node.free_bytes);
    w.U32(node.disks);
  }
  for (uint64_t value : {m.extents_open, m.extents_sealing, m.extents_sealed, m.extents_abandoned, m.committed_bytes,
                         m.garbage_bytes, m.compaction_candidates}) {
    w.U64(value);
  }
}

Result<ClusterStatusResponse> DecodeClusterStatusResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ClusterStatusResponse m;
  ASSIGN_OR_RETURN(m.cluster_version, r.U64());
  ASSIGN_OR_RETURN(m.default_replicas, r.U32());
  ASSIGN_OR_RETURN(uint32_t nodes, r.U32());
  if (nodes > kNodesMax) return Status::InvalidArgument(fmt::format("{} nodes; at most {}", nodes, kNodesMax));
  m.nodes.resize(nodes);
  for (NodeStatus& node : m.nodes) {
    ASSIGN_OR_RETURN(node.node_id, r.String(kAddressBytesMax));
    ASSIGN_OR_RETURN(node.address, r.String(kAddressBytesMax));
    ASSIGN_OR_RETURN(node.up, r.Bool());
    ASSIGN_OR_RETURN(node.silent_ms, r.U64());
    ASSIGN_OR_RETURN(node.capacity_bytes, r.U64());
    ASSIGN_OR_RETURN(node.free_bytes, r.U64());
    ASSIGN_OR_RETURN(node.disks, r.U32());
  }
  for (uint64_t* value : {&m.extents_open, &m.extents_sealing, &m.extents_sealed, &m.extents_abandoned,
                          &m.committed_bytes, &m.garbage_bytes, &m.compaction_candidates}) {
    ASSIGN_OR_RETURN(*value, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ContainerRequest& m, WireWriter& w) {
  w.String(m.name);
  w.String(EncodeContainerRecord(m.record));
}

Result<ContainerRequest> DecodeContainerRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ContainerRequest m;
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.record, ReadContainerRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ContainerResponse& m, WireWriter& w) { w.String(EncodeContainerRecord(m.record)); }

Result<ContainerResponse> DecodeContainerResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ContainerResponse m;
  ASSIGN_OR_RETURN(m.record, ReadContainerRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListContainersRequest& m, WireWriter& w) {
  w.String(m.prefix);
  w.String(m.start_after);
  w.U32(m.max_results);
}

Result<ListContainersRequest> DecodeListContainersRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListContainersRequest m;
  ASSIGN_OR_RETURN(m.prefix, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.start_after, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.max_results, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListContainersResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.containers.size()));
  for (const auto& [name, record] : m.containers) {
    w.String(name);
    w.String(EncodeContainerRecord(record));
  }
  w.Bool(m.truncated);
  w.String(m.next_start_after);
}

Result<ListContainersResponse> DecodeListContainersResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListContainersResponse m;
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r));
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(std::string name, r.String(kNameBytesMax));
    ASSIGN_OR_RETURN(ContainerRecord record, ReadContainerRecord(r));
    m.containers.emplace_back(std::move(name), std::move(record));
  }
  ASSIGN_OR_RETURN(m.truncated, r.Bool());
  ASSIGN_OR_RETURN(m.next_start_after, r.String(kNameBytesMax));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ObjectRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.name);
  WriteOptional(m.if_match, w);
  WriteOptional(m.if_none_match, w);
}

Result<ObjectRequest> DecodeObjectRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ObjectRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.if_match, ReadOptional(r));
  ASSIGN_OR_RETURN(m.if_none_match, ReadOptional(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const SetObjectPropertiesRequest& m, WireWriter& w) {
  Encode(m.object, w);
  w.Bool(m.set_content);
  w.Bool(m.set_metadata);
  WriteProperties(m.content_type, m.metadata, m.headers, w);
}

Result<SetObjectPropertiesRequest> DecodeSetObjectPropertiesRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  SetObjectPropertiesRequest m;
  ASSIGN_OR_RETURN(m.object.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.object.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.object.if_match, ReadOptional(r));
  ASSIGN_OR_RETURN(m.object.if_none_match, ReadOptional(r));
  ASSIGN_OR_RETURN(m.set_content, r.Bool());
  ASSIGN_OR_RETURN(m.set_metadata, r.Bool());
  ASSIGN_OR_RETURN(UploadRecord properties, ReadUploadRecord(r));
  m.content_type = std::move(properties.content_type);
  m.metadata = std::move(properties.metadata);
  m.headers = std::move(properties.headers);
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ObjectResponse& m, WireWriter& w) { w.String(EncodeObjectRecord(m.record)); }

Result<ObjectResponse> DecodeObjectResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ObjectResponse m;
  ASSIGN_OR_RETURN(m.record, ReadObjectRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListObjectsRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.prefix);
  w.String(m.delimiter);
  w.String(m.start_after);
  w.U32(m.max_results);
}

Result<ListObjectsRequest> DecodeListObjectsRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListObjectsRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.prefix, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.delimiter, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.start_after, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.max_results, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

// Where the listing goes on comes first: a client can ask for the next page before it decodes
// this one.
void Encode(const ListObjectsResponse& m, WireWriter& w) {
  w.Bool(m.truncated);
  w.String(m.next_start_after);
  w.U32(static_cast<uint32_t>(m.objects.size()));
  for (const auto& [name, record] : m.objects) {
    w.String(name);
    WriteObjectSummary(record, w);
  }
  w.U32(static_cast<uint32_t>(m.common_prefixes.size()));
  for (const std::string& prefix : m.common_prefixes) w.String(prefix);
}

Result<ListContinuation> PeekListContinuation(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListContinuation m;
  ASSIGN_OR_RETURN(m.truncated, r.Bool());
  ASSIGN_OR_RETURN(m.next_start_after, r.String(kNameBytesMax));
  return m;
}

Result<ListObjectsResponse> DecodeListObjectsResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListObjectsResponse m;
  ASSIGN_OR_RETURN(m.truncated, r.Bool());
  ASSIGN_OR_RETURN(m.next_start_after, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(uint32_t objects, ReadCount(r));
  m.objects.reserve(objects);
  for (uint32_t i = 0; i < objects; i++) {
    ASSIGN_OR_RETURN(std::string name, r.String(kNameBytesMax));
    ASSIGN_OR_RETURN(ObjectRecord record, ReadObjectSummary(r));
    m.objects.emplace_back(std::move(name), std::move(record));
  }
  ASSIGN_OR_RETURN(uint32_t prefixes, ReadCount(r));
  for (uint32_t i = 0; i < prefixes; i++) {
    ASSIGN_OR_RETURN(std::string prefix, r.String(kNameBytesMax));
    m.common_prefixes.push_back(std::move(prefix));
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace cerulean::meta
