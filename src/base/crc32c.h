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
// The CRC32C of a + b from the CRCs of a and b and the length of b, without the bytes: a few
// dozen carry-less multiplications instead of a pass over b. Lets a record's whole-payload CRC
// come from its sub-block CRCs, and a response's from its ranges'.
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

}  // namespace cerulean
