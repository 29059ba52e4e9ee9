// The values of the metadata store (docs/formats/metadata_keys.md): containers, objects with
// their piece lists, extents. Each starts with a format version; decoding checks every length
// and rejects trailing bytes, so a damaged value is an error, never a wrong object. Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cerulean::meta {

using UserMetadata = std::vector<std::pair<std::string, std::string>>;

struct ContainerRecord {
  int64_t created_unix_ns = 0;
  bool public_read = false;
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

struct ObjectRecord {
  uint64_t size = 0;
  std::string etag;  // quoted as HTTP sends it: "\"<md5 hex>\"" for single-shot puts
  std::string content_type;
  UserMetadata metadata;
  int64_t created_unix_ns = 0;
  int64_t modified_unix_ns = 0;
  uint32_t crc32c = 0;  // of the whole object
  std::vector<Piece> pieces;  // in object order; their lengths sum to size
  friend bool operator==(const ObjectRecord&, const ObjectRecord&) = default;
};

std::string EncodeContainerRecord(const ContainerRecord& record);
Result<ContainerRecord> DecodeContainerRecord(std::string_view bytes);
std::string EncodeObjectRecord(const ObjectRecord& record);
Result<ObjectRecord> DecodeObjectRecord(std::string_view bytes);

}  // namespace cerulean::meta
