#include "storage/extent_format.h"

#include <gtest/gtest.h>

#include <vector>

namespace cerulean::storage {
namespace {

std::vector<std::byte> Pattern(size_t bytes, uint8_t seed) {
  std::vector<std::byte> data(bytes);
  for (size_t i = 0; i < bytes; i++) data[i] = std::byte((i * 131 + seed) & 0xFF);
  return data;
}

TEST(ExtentFormatTest, RecordHeaderRoundTripsWithSubBlockChecksums) {
  const auto payload = Pattern(200 * 1024 + 17, 5);  // 4 sub-blocks, the last partial
  RecordHeader header{.extent_id = 7, .sequence = 3, .record_offset = 8192, .owner = {1, 2}};
  ComputeRecordChecksums(payload, header);
  std::array<std::byte, kBlockBytes> block;
  EncodeRecordHeader(header, block);
  auto decoded = DecodeRecordHeader(block);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->payload_bytes, payload.size());
  EXPECT_EQ(decoded->sequence, 3u);
  EXPECT_EQ(decoded->owner, (OwnerId{1, 2}));
  EXPECT_TRUE(VerifySubBlocks(*decoded, 0, payload).ok());
  // A ranged check of sub-blocks 2..3 alone.
  EXPECT_TRUE(VerifySubBlocks(*decoded, 2, std::span(payload).subspan(2 * kSubBlockBytes)).ok());
  auto corrupted = payload;
  corrupted[3 * kSubBlockBytes + 1] ^= std::byte{4};
  EXPECT_EQ(VerifySubBlocks(*decoded, 0, corrupted).code(), StatusCode::kDataLoss);
  EXPECT_TRUE(VerifySubBlocks(*decoded, 0, std::span(corrupted).first(3 * kSubBlockBytes)).ok());
}

TEST(ExtentFormatTest, EveryFlippedBitOfTheHeaderIsDetected) {
  const auto payload = Pattern(70'000, 9);
  RecordHeader header{.extent_id = 1, .sequence = 1, .record_offset = kFirstRecordOffset};
  ComputeRecordChecksums(payload, header);
  std::array<std::byte, kBlockBytes> good;
  EncodeRecordHeader(header, good);
  // The meaningful part: the fixed fields and the two sub-block CRCs.
  for (size_t bit = 0; bit < (kRecordHeaderFixedBytes + 8) * 8; bit++) {
    auto bad = good;
    bad[bit / 8] ^= std::byte(1u << (bit % 8));
    EXPECT_FALSE(DecodeRecordHeader(bad).ok()) << "bit " << bit;
  }
}

TEST(ExtentFormatTest, FileHeaderRoundTripAndCorruption) {
  std::array<std::byte, kBlockBytes> block;
  EncodeExtentFileHeader({.extent_id = 42, .extent_bytes_max = 1 << 30, .durability = Durability::kNone}, block);
  auto decoded = DecodeExtentFileHeader(block);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->extent_id, 42u);
  EXPECT_EQ(decoded->durability, Durability::kNone);
  block[9] ^= std::byte{1};
  EXPECT_EQ(DecodeExtentFileHeader(block).status().code(), StatusCode::kDataLoss);
}

TEST(ExtentFormatTest, SizesAndLimits) {
  EXPECT_EQ(RecordBytes(0), kBlockBytes);
  EXPECT_EQ(RecordBytes(1), 2 * kBlockBytes);
  EXPECT_EQ(RecordBytes(kBlockBytes), 2 * kBlockBytes);
  EXPECT_EQ(SubBlockCount(kRecordPayloadBytesMax), 512u);
  EXPECT_LE(SubBlockCount(kRecordPayloadBytesMax), kSubBlocksPerRecordMax);
}

}  // namespace
}  // namespace cerulean::storage
