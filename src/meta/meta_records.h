// The values of the metadata store (docs/formats/metadata_keys.md): containers, objects with
// their piece lists, extents with their chains. Each starts with a format version; decoding checks every length
// and rejects trailing bytes, so a damaged value is an error, never a wrong object. Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cerulean/content_headers.h"
#include "rpc/wire.h"

namespace cerulean::meta {

using UserMetadata = std::vector<std::pair<std::string, std::string>>;
using cerulean::ContentHeaders;

struct ContainerRecord {
  int64_t created_unix_ns = 0;
  bool public_read = false;
  bool public_list = true;  // with public_read: anonymous listings too (Azure's "container" level, S3's public-read)
  UserMetadata metadata;
  friend bool operator==(const ContainerRecord&, const ContainerRecord&) = default;
};

// A contiguous run of an object's bytes: one record in an extent.
struct Piece {
  uint64_t extent_id = 0;
  uint64_t record_offset = 0;
  uint32_t length = 0;
  uint32_t crc32c = 0;
  friend bool operator==(const Piece&, const Piece&) = default;
};

// A committed block of an object made from staged blocks (Azure's block list): the next
// `pieces` pieces of the object. Kept so that a later commit can reuse the block by its id.
struct BlockRef {
  std::string id;
  uint32_t pieces = 0;
  friend bool operator==(const BlockRef&, const BlockRef&) = default;
};

struct ObjectRecord {
  uint64_t size = 0;
  std::string etag;  // quoted as HTTP sends it: "\"<md5 hex>\"" for single-shot puts
  std::string content_type;
  UserMetadata metadata;
  int64_t created_unix_ns = 0;
  int64_t modified_unix_ns = 0;
  uint32_t crc32c = 0;  // of the whole object
  std::vector<Piece> pieces;  // in object order; their lengths sum to size
  std::vector<BlockRef> blocks;  // empty, or covering the pieces in order (staged commits)
  ContentHeaders headers;
  friend bool operator==(const ObjectRecord&, const ObjectRecord&) = default;
};

// A block (Azure) or part (S3) staged for a later commit: data already durable in extents.
struct StagedBlockRecord {
  uint64_t size = 0;
  std::string etag;  // "\"<md5 hex>\"" of the block's content
  int64_t created_unix_ns = 0;
  std::vector<Piece> pieces;
  friend bool operator==(const StagedBlockRecord&, const StagedBlockRecord&) = default;
};

// An S3 multipart upload between its creation and its completion or abort.
struct UploadRecord {
  int64_t created_unix_ns = 0;
  std::string content_type;
  UserMetadata metadata;
  ContentHeaders headers;
  friend bool operator==(const UploadRecord&, const UploadRecord&) = default;
};

// An extent's life as meta sees it. Open extents take appends; a seal is decided (kSealing, with
// the length chosen) and recorded before any replica is told, so that a retry after a crash seals
// at the same length. An extent whose creation failed on its chain is kAbandoned: no piece
// refers to it, and its replicas may be deleted.
enum class ExtentState : uint8_t { kOpen = 0, kSealing = 1, kSealed = 2, kAbandoned = 3 };

struct ExtentRecord {
  uint64_t extent_id = 0;
  std::vector<std::string> replicas;  // node ids, head first
  uint64_t chain_version = 1;
  bool durable = true;  // Durability::kSync (false: kNone)
  ExtentState state = ExtentState::kOpen;
  uint64_t sealed_length = 0;  // with kSealing and kSealed
  // Garbage accounting: payload bytes of committed pieces in this extent, and of those the ones
  // whose objects were since overwritten or deleted.
  uint64_t committed_bytes = 0;
  uint64_t garbage_bytes = 0;
  friend bool operator==(const ExtentRecord&, const ExtentRecord&) = default;
};

// User metadata as records and messages both carry it: a u32 count, then name and value
// strings (at most 1024 pairs, 8 KiB each). Decoding errors are DataLoss.
void EncodeMetadata(const UserMetadata& metadata, rpc::WireWriter& w);
void EncodeContentHeaders(const ContentHeaders& headers, rpc::WireWriter& w);
Result<ContentHeaders> DecodeContentHeaders(rpc::WireReader& r);
Result<UserMetadata> DecodeMetadata(rpc::WireReader& r);

std::string EncodeContainerRecord(const ContainerRecord& record);
Result<ContainerRecord> DecodeContainerRecord(std::string_view bytes);
std::string EncodeObjectRecord(const ObjectRecord& record);
Result<ObjectRecord> DecodeObjectRecord(std::string_view bytes);
std::string EncodeStagedBlockRecord(const StagedBlockRecord& record);
Result<StagedBlockRecord> DecodeStagedBlockRecord(std::string_view bytes);
std::string EncodeUploadRecord(const UploadRecord& record);
Result<UploadRecord> DecodeUploadRecord(std::string_view bytes);
std::string EncodeExtentRecord(const ExtentRecord& record);
Result<ExtentRecord> DecodeExtentRecord(std::string_view bytes);

}  // namespace cerulean::meta
