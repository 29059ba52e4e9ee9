#include "storage/extent_format.h"

#include <cstring>

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/little_endian.h"

namespace cerulean::storage {
namespace {

// Extent file header block.
constexpr size_t kFileMagicOffset = 0;        // u32
constexpr size_t kFileVersionOffset = 4;      // u16
constexpr size_t kFileDurabilityOffset = 6;   // u8
constexpr size_t kFileExtentIdOffset = 8;     // u64
constexpr size_t kFileBytesMaxOffset = 16;    // u64
constexpr size_t kFileChainVersionOffset = 24;  // u64
constexpr size_t kFileHeaderCrcOffset = 32;   // u32 over [0, 32)

// Record header block.
constexpr size_t kMagicOffset = 0;            // u32
constexpr size_t kVersionOffset = 4;          // u16
constexpr size_t kFlagsOffset = 6;            // u16, 0
constexpr size_t kExtentIdOffset = 8;         // u64
constexpr size_t kSequenceOffset = 16;        // u64
constexpr size_t kRecordOffsetOffset = 24;    // u64
constexpr size_t kPayloadBytesOffset = 32;    // u32
constexpr size_t kPayloadCrcOffset = 36;      // u32
constexpr size_t kOwnerHighOffset = 40;       // u64
constexpr size_t kOwnerLowOffset = 48;        // u64
constexpr size_t kSubBlockCountOffset = 56;   // u32
constexpr size_t kHeaderCrcOffset = 60;       // u32 over [0, 60) and the sub-block CRCs
static_assert(kHeaderCrcOffset + 4 == kRecordHeaderFixedBytes);

uint32_t HeaderCrc(const std::byte* block, uint32_t sub_block_count) {
  const uint32_t fixed = Crc32c(block, kHeaderCrcOffset);
  return Crc32c(block + kRecordHeaderFixedBytes, size_t{sub_block_count} * 4, fixed);
}

}  // namespace

void EncodeExtentFileHeader(const ExtentFileHeader& header, std::span<std::byte, kBlockBytes> out) {
  std::memset(out.data(), 0, kBlockBytes);
  std::byte* p = out.data();
  StoreLittleEndian<uint32_t>(p + kFileMagicOffset, kExtentFileMagic);
  StoreLittleEndian<uint16_t>(p + kFileVersionOffset, kFormatVersion);
  StoreLittleEndian<uint8_t>(p + kFileDurabilityOffset, static_cast<uint8_t>(header.durability));
  StoreLittleEndian<uint64_t>(p + kFileExtentIdOffset, header.extent_id);
  StoreLittleEndian<uint64_t>(p + kFileBytesMaxOffset, header.extent_bytes_max);
  StoreLittleEndian<uint64_t>(p + kFileChainVersionOffset, header.chain_version);
  StoreLittleEndian<uint32_t>(p + kFileHeaderCrcOffset, Crc32c(p, kFileHeaderCrcOffset));
}

Result<ExtentFileHeader> DecodeExtentFileHeader(std::span<const std::byte, kBlockBytes> in) {
  const std::byte* p = in.data();
  if (LoadLittleEndian<uint32_t>(p + kFileMagicOffset) != kExtentFileMagic) {
    return Status::DataLoss("extent file header: bad magic");
  }
  if (LoadLittleEndian<uint32_t>(p + kFileHeaderCrcOffset) != Crc32c(p, kFileHeaderCrcOffset)) {
    return Status::DataLoss("extent file header: checksum mismatch");
  }
  const uint16_t version = LoadLittleEndian<uint16_t>(p + kFileVersionOffset);
  if (version != kFormatVersion) {
    return Status::FailedPrecondition(fmt::format("extent format version {} is not supported", version));
  }
  const uint8_t durability = LoadLittleEndian<uint8_t>(p + kFileDurabilityOffset);
  if (durability > static_cast<uint8_t>(Durability::kNone)) {
    return Status::DataLoss(fmt::format("extent file header: unknown durability {}", durability));
  }
  return ExtentFileHeader{.extent_id = LoadLittleEndian<uint64_t>(p + kFileExtentIdOffset),
                          .extent_bytes_max = LoadLittleEndian<uint64_t>(p + kFileBytesMaxOffset),
                          .durability = static_cast<Durability>(durability),
                          .chain_version = LoadLittleEndian<uint64_t>(p + kFileChainVersionOffset)};
}

void ComputeRecordChecksums(std::span<const std::byte> payload, RecordHeader& header) {
  CHECK_LE(payload.size(), kRecordPayloadBytesMax);
  header.payload_bytes = static_cast<uint32_t>(payload.size());
  // One pass: the whole payload's CRC is combined from the sub-blocks'.
  uint32_t whole = 0;
  const uint32_t count = SubBlockCount(payload.size());
  for (uint32_t i = 0; i < count; i++) {
    const auto part = payload.subspan(size_t{i} * kSubBlockBytes,
                                      std::min(kSubBlockBytes, payload.size() - size_t{i} * kSubBlockBytes));
    header.sub_block_crcs[i] = Crc32c(part);
    whole = i == 0 ? header.sub_block_crcs[0] : Crc32cCombine(whole, header.sub_block_crcs[i], part.size());
  }
  header.payload_crc = whole;
}

void EncodeRecordHeader(const RecordHeader& header, std::span<std::byte, kBlockBytes> out) {
  std::memset(out.data(), 0, kBlockBytes);
  std::byte* p = out.data();
  const uint32_t count = SubBlockCount(header.payload_bytes);
  StoreLittleEndian<uint32_t>(p + kMagicOffset, kRecordMagic);
  StoreLittleEndian<uint16_t>(p + kVersionOffset, kFormatVersion);
  StoreLittleEndian<uint16_t>(p + kFlagsOffset, 0);
  StoreLittleEndian<uint64_t>(p + kExtentIdOffset, header.extent_id);
  StoreLittleEndian<uint64_t>(p + kSequenceOffset, header.sequence);
  StoreLittleEndian<uint64_t>(p + kRecordOffsetOffset, header.record_offset);
  StoreLittleEndian<uint32_t>(p + kPayloadBytesOffset, header.payload_bytes);
  StoreLittleEndian<uint32_t>(p + kPayloadCrcOffset, header.payload_crc);
  StoreLittleEndian<uint64_t>(p + kOwnerHighOffset, header.owner.high);
  StoreLittleEndian<uint64_t>(p + kOwnerLowOffset, header.owner.low);
  StoreLittleEndian<uint32_t>(p + kSubBlockCountOffset, count);
  for (uint32_t i = 0; i < count; i++) {
    StoreLittleEndian<uint32_t>(p + kRecordHeaderFixedBytes + size_t{i} * 4, header.sub_block_crcs[i]);
  }
  StoreLittleEndian<uint32_t>(p + kHeaderCrcOffset, HeaderCrc(p, count));
}

Result<RecordHeader> DecodeRecordHeader(std::span<const std::byte, kBlockBytes> in) {
  const std::byte* p = in.data();
  if (LoadLittleEndian<uint32_t>(p + kMagicOffset) != kRecordMagic) {
    return Status::DataLoss("record header: bad magic");
  }
  const uint32_t count = LoadLittleEndian<uint32_t>(p + kSubBlockCountOffset);
  if (count > kSubBlocksPerRecordMax) return Status::DataLoss("record header: sub-block count out of range");
  if (LoadLittleEndian<uint32_t>(p + kHeaderCrcOffset) != HeaderCrc(p, count)) {
    return Status::DataLoss("record header: checksum mismatch");
  }
  if (LoadLittleEndian<uint16_t>(p + kVersionOffset) != kFormatVersion) {
    return Status::FailedPrecondition("record header: unsupported format version");
  }
  RecordHeader header;
  header.extent_id = LoadLittleEndian<uint64_t>(p + kExtentIdOffset);
  header.sequence = LoadLittleEndian<uint64_t>(p + kSequenceOffset);
  header.record_offset = LoadLittleEndian<uint64_t>(p + kRecordOffsetOffset);
  header.payload_bytes = LoadLittleEndian<uint32_t>(p + kPayloadBytesOffset);
  header.payload_crc = LoadLittleEndian<uint32_t>(p + kPayloadCrcOffset);
  header.owner.high = LoadLittleEndian<uint64_t>(p + kOwnerHighOffset);
  header.owner.low = LoadLittleEndian<uint64_t>(p + kOwnerLowOffset);
  if (header.payload_bytes > kRecordPayloadBytesMax || SubBlockCount(header.payload_bytes) != count) {
    return Status::DataLoss("record header: payload length disagrees with its sub-blocks");
  }
  for (uint32_t i = 0; i < count; i++) {
    header.sub_block_crcs[i] = LoadLittleEndian<uint32_t>(p + kRecordHeaderFixedBytes + size_t{i} * 4);
  }
  return header;
}

Status VerifySubBlocks(const RecordHeader& header, uint32_t first, std::span<const std::byte> bytes,
                       std::byte* copy_to) {
  const uint32_t count = SubBlockCount(header.payload_bytes);
  size_t position = 0;
  for (uint32_t i = first; position < bytes.size(); i++) {
    if (i >= count) return Status::Internal("verifying past the record's sub-blocks");
    const size_t length = std::min<size_t>(kSubBlockBytes, header.payload_bytes - size_t{i} * kSubBlockBytes);
    if (position + length > bytes.size()) return Status::Internal("partial sub-block handed to VerifySubBlocks");
    if (Crc32c(bytes.subspan(position, length)) != header.sub_block_crcs[i]) {
      return Status::DataLoss(fmt::format("payload checksum mismatch in sub-block {}", i));
    }
    if (copy_to != nullptr) std::memcpy(copy_to + position, bytes.data() + position, length);
    position += length;
  }
  return Status::Ok();
}

}  // namespace cerulean::storage
