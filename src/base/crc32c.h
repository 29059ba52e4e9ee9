// CRC32C (Castagnoli), hardware accelerated through ISA-L. Used end to end: rpc frames, extent
// records, object pieces. Pure functions; thread-safe.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace cerulean {

// The CRC32C of `data`, continuing from `crc` (the CRC of the bytes before it; 0 to start).
// Crc32c(b, Crc32c(a)) == Crc32c(a + b).
uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc = 0);
uint32_t Crc32c(const void* data, size_t length, uint32_t crc = 0);
// The CRC32C of the concatenation of a scatter-gather list.
uint32_t Crc32c(std::span<const iovec> data, uint32_t crc = 0);

}  // namespace cerulean
