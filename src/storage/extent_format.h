// The on-disk format of an extent file (docs/formats/extent.md): a 4 KiB file header, then
// records, each a 4 KiB header block and a payload padded to 4 KiB. Every multi-byte field is
// little-endian at a fixed offset. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"

namespace cerulean::storage {

inline constexpr size_t kBlockBytes = 4096;
inline constexpr uint32_t kExtentFileMagic = 0x54584543;  // "CEXT"
inline constexpr uint32_t kRecordMagic = 0x43455243;      // "CREC"
inline constexpr uint16_t kFormatVersion = 1;
// Records start after the file header block.
inline constexpr uint64_t kFirstRecordOffset = kBlockBytes;
// A checksum covers each 64 KiB of payload, so a ranged read verifies only what it touches.
inline constexpr size_t kSubBlockBytes = 64 * 1024;
inline constexpr size_t kRecordHeaderFixedBytes = 64;
inline constexpr size_t kSubBlocksPerRecordMax = (kBlockBytes - kRecordHeaderFixedBytes) / 4;  // 1008
inline constexpr uint32_t kRecordPayloadBytesMax = 32 * 1024 * 1024;
static_assert(kRecordPayloadBytesMax / kSubBlockBytes <= kSubBlocksPerRecordMax);

enum class Durability : uint8_t {
  kSync = 0,  // acknowledged only once on stable storage
  kNone = 1,  // cache data: acknowledged once written; a crash may lose it
};

struct ExtentFileHeader {
  uint64_t extent_id = 0;
  uint64_t extent_bytes_max = 0;
  Durability durability = Durability::kSync;
  // The version of the chain the extent was created on; appends naming another are refused.
  uint64_t chain_version = 0;
};

struct OwnerId {
  uint64_t high = 0;
  uint64_t low = 0;
  friend bool operator==(const OwnerId&, const OwnerId&) = default;
};

struct RecordHeader {
  uint64_t extent_id = 0;
  uint64_t sequence = 0;       // 1, 2, 3... within the extent
  uint64_t record_offset = 0;  // where this record starts: stale blocks cannot pass for it
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;
  OwnerId owner;
  // CRC32C of each 64 KiB of payload (the last one possibly shorter).
  std::array<uint32_t, kSubBlocksPerRecordMax> sub_block_crcs{};
};

inline constexpr uint64_t RoundUpToBlock(uint64_t bytes) {
  return (bytes + kBlockBytes - 1) / kBlockBytes * kBlockBytes;
}
// Bytes a record takes on disk.
inline constexpr uint64_t RecordBytes(uint64_t payload_bytes) {
  return kBlockBytes + RoundUpToBlock(payload_bytes);
}
inline constexpr uint32_t SubBlockCount(uint64_t payload_bytes) {
  return static_cast<uint32_t>((payload_bytes + kSubBlockBytes - 1) / kSubBlockBytes);
}

void EncodeExtentFileHeader(const ExtentFileHeader& header, std::span<std::byte, kBlockBytes> out);
Result<ExtentFileHeader> DecodeExtentFileHeader(std::span<const std::byte, kBlockBytes> in);

// Fills payload_crc and sub_block_crcs from the payload.
void ComputeRecordChecksums(std::span<const std::byte> payload, RecordHeader& header);
void EncodeRecordHeader(const RecordHeader& header, std::span<std::byte, kBlockBytes> out);
// Validates magic, version, header CRC, limits; does not look at the payload. DataLoss on any
// mismatch.
Result<RecordHeader> DecodeRecordHeader(std::span<const std::byte, kBlockBytes> in);
// Checks the CRCs of sub-blocks [first, first + count) against `bytes`, which holds exactly
// those sub-blocks' payload bytes. DataLoss names the first bad sub-block. With `copy_to`, each
// sub-block is also copied there once it has verified, while it is still in the CPU's cache:
// one pass over memory instead of two. (After a DataLoss the copy is partial.)
Status VerifySubBlocks(const RecordHeader& header, uint32_t first, std::span<const std::byte> bytes,
                       std::byte* copy_to = nullptr);

}  // namespace cerulean::storage
