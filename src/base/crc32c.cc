#include "base/crc32c.h"

#include <isa-l/crc.h>

namespace cerulean {

uint32_t Crc32c(const void* data, size_t length, uint32_t crc) {
  // ISA-L's crc32_iscsi neither pre- nor post-inverts; the standard CRC32C does both.
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
  // crc32_iscsi takes an int length; feed large buffers in chunks.
  constexpr size_t kChunkBytesMax = size_t{1} << 30;
  while (length > 0) {
    const size_t chunk = length < kChunkBytesMax ? length : kChunkBytesMax;
    state = crc32_iscsi(const_cast<unsigned char*>(bytes), static_cast<int>(chunk), state);
    bytes += chunk;
    length -= chunk;
  }
  return ~state;
}

uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc) {
  return Crc32c(data.data(), data.size(), crc);
}

uint32_t Crc32c(std::span<const iovec> data, uint32_t crc) {
  for (const iovec& v : data) crc = Crc32c(v.iov_base, v.iov_len, crc);
  return crc;
}

}  // namespace cerulean
