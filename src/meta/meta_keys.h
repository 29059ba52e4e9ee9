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
inline constexpr char kCounter = 'Z';

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
// X<extent id, 8 bytes big-endian>
std::string Extent(uint64_t extent_id);
// N<node id>: a storage node's last known address, so that readers can reach extents at once
// after a meta restart, before the node's next heartbeat.
std::string Node(std::string_view node_id);
// Z<name>: a counter (the next extent id, say).
std::string Counter(std::string_view name);

}  // namespace cerulean::meta::keys
