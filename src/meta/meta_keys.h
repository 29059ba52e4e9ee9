// The keys of the metadata store (docs/formats/metadata_keys.md). A key is a one-byte kind and
// fields that sort the way listings need: names as their bytes (container names hold no NUL, so
// NUL ends them), numbers big-endian. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cerulean::meta::keys {

inline constexpr char kContainer = 'C';
inline constexpr char kObject = 'O';
inline constexpr char kExtent = 'X';
inline constexpr char kNode = 'N';
inline constexpr char kStagedBlock = 'S';
inline constexpr char kUpload = 'U';
inline constexpr char kCounter = 'Z';
inline constexpr char kKvNamespace = 'K';

// C<container>
std::string Container(std::string_view container);
// The first key past every container whose name starts with `prefix`.
std::string ContainerPrefixEnd(std::string_view prefix);
// O<container>\0<object>: a container's objects are contiguous, in the byte order of their
// names (UTF-8 byte order is code point order, which is S3's listing order).
std::string Object(std::string_view container, std::string_view object);
// The first key past every object of `container` whose name starts with `prefix`.
std::string ObjectPrefixEnd(std::string_view container, std::string_view prefix);
// The object name inside an Object key of `container`.
std::string_view ObjectName(std::string_view key, std::string_view container);
// S<container>\0<object>\0<upload id>\0<block id>: a staged block. Azure's blocks use the
// empty upload id; S3's parts their upload's id and the part number as a zero-padded block id.
std::string StagedBlock(std::string_view container, std::string_view object, std::string_view upload_id,
                        std::string_view block_id);
// The prefix of every staged block of one upload.
std::string StagedBlocksOf(std::string_view container, std::string_view object, std::string_view upload_id);
// U<container>\0<object>\0<upload id>: an S3 multipart upload in progress.
std::string Upload(std::string_view container, std::string_view object, std::string_view upload_id);
// The prefix of every upload in `container` whose object name starts with `prefix`.
std::string UploadsOf(std::string_view container, std::string_view prefix);
// The first key past every key that starts with `prefix` (empty: none is; the caller scans to
// the end of the kind).
std::string PrefixEnd(std::string_view prefix);

// X<extent id, 8 bytes big-endian>
std::string Extent(uint64_t extent_id);
// N<node id>: a storage node's last known address, so that readers can reach extents at once
// after a meta restart, before the node's next heartbeat.
std::string Node(std::string_view node_id);
// K<name>: a KV-cache namespace (its id and settings).
std::string KvNamespace(std::string_view name);
// Z<name>: a counter (the next extent id, say).
std::string Counter(std::string_view name);

}  // namespace cerulean::meta::keys
