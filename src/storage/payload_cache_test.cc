#include "storage/payload_cache.h"

#include <gtest/gtest.h>

#include <cstring>

namespace cerulean::storage {
namespace {

// A record of `payload_bytes` read into memory the cache reserved (filled with `fill`) and kept.
std::shared_ptr<const CachedRecord> Keep(PayloadCache& cache, uint64_t extent_key, uint64_t record_offset,
                                         size_t payload_bytes, uint8_t fill = 0) {
  std::shared_ptr<CachedRecord> record = cache.Reserve(RoundUpToBlock(std::max<size_t>(payload_bytes, 1)));
  if (record == nullptr) return nullptr;
  std::memset(record->bytes.data(), fill, record->bytes.size());
  record->facts.payload_bytes = static_cast<uint32_t>(payload_bytes);
  cache.Insert(extent_key, record_offset, record);
  return record;
}

bool AllBytesAre(const CachedRecord& record, uint8_t fill) {
  for (std::byte b : record.bytes) {
    if (b != std::byte{fill}) return false;
  }
  return true;
}

TEST(PayloadCacheTest, OffKeepsNothing) {
  PayloadCache cache({});
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(cache.Admits(4096));
  EXPECT_EQ(cache.Reserve(4096), nullptr);
  EXPECT_EQ(cache.memory_bytes(), 0u);
}

TEST(PayloadCacheTest, KeepsRecordsUpToTheSizeLimitByExtentIncarnation) {
  PayloadCache cache({.capacity_bytes = 1 << 20, .record_bytes_max = 64 << 10});
  EXPECT_TRUE(cache.Admits(64 << 10));
  EXPECT_FALSE(cache.Admits((64 << 10) + 1));
  auto record = Keep(cache, 1, 4096, 4096);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(cache.Find(1, 4096), record);
  EXPECT_EQ(cache.Find(2, 4096), nullptr);  // another incarnation of the extent
  EXPECT_EQ(cache.Find(1, 8192), nullptr);
  Keep(cache, 1, 4096, 4096);  // already there: the first stays
  EXPECT_EQ(cache.Find(1, 4096), record);
  EXPECT_EQ(cache.bytes(), 4096u);
  EXPECT_EQ(cache.entries(), 1u);
  cache.Erase(1, 4096);
  EXPECT_EQ(cache.Find(1, 4096), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

// The default size: segments of four of the largest records (header block included), as many as
// come nearest the budget.
TEST(PayloadCacheTest, CutsItsBudgetIntoSegmentsOfWholeLargestRecords) {
  PayloadCache cache({.capacity_bytes = 256 << 20, .record_bytes_max = 8 << 20});
  EXPECT_EQ(cache.segment_bytes(), 4 * ((8u << 20) + kBlockBytes));
  EXPECT_LE(cache.memory_bytes(), (256u << 20) + cache.segment_bytes() / 2);
  EXPECT_GE(cache.memory_bytes() + cache.segment_bytes() / 2, 256u << 20);
  EXPECT_TRUE(cache.Admits(8 << 20));
  for (uint64_t i = 0; i < 4; i++) {
    EXPECT_NE(Keep(cache, 1, (i + 1) << 24, 8 << 20), nullptr);
  }
  EXPECT_EQ(cache.entries(), 4u);
}

TEST(PayloadCacheTest, EvictsTheOldestSegmentWithASecondChanceForReadOnes) {
  // Four segments of 64 records of 4 KiB.
  PayloadCache cache({.capacity_bytes = 1 << 20, .record_bytes_max = 4096});
  ASSERT_EQ(cache.segment_bytes(), 256u << 10);
  ASSERT_EQ(cache.memory_bytes(), 1u << 20);
  for (uint64_t i = 0; i < 256; i++) ASSERT_NE(Keep(cache, 1, (i + 1) * 4096, 4096), nullptr);
  EXPECT_EQ(cache.entries(), 256u);
  EXPECT_NE(cache.Find(1, 1 * 4096), nullptr);  // read: its segment survives the next eviction
  ASSERT_NE(Keep(cache, 1, 1000 * 4096, 4096), nullptr);
  EXPECT_NE(cache.Find(1, 1 * 4096), nullptr);
  EXPECT_EQ(cache.Find(1, 65 * 4096), nullptr);  // the second oldest went instead, whole
  EXPECT_EQ(cache.Find(1, 128 * 4096), nullptr);
  EXPECT_NE(cache.Find(1, 129 * 4096), nullptr);
  EXPECT_EQ(cache.entries(), 256u - 64 + 1);
  // Many more, none read: memory stays within the budget and the newest are there.
  for (uint64_t i = 2000; i < 4000; i++) {
    ASSERT_NE(Keep(cache, 1, i * 4096, i % 3 == 0 ? 12288 : 4096), nullptr);
    ASSERT_LE(cache.bytes(), cache.memory_bytes());
  }
  EXPECT_NE(cache.Find(1, 3999 * 4096), nullptr);
  EXPECT_EQ(cache.Find(1, 1 * 4096), nullptr);
}

// A response may still send from an entry the cache dropped: its memory is not refilled until
// the last holder lets go, and while every segment is held nothing new is kept.
TEST(PayloadCacheTest, HeldMemoryIsNotReused) {
  PayloadCache one({.capacity_bytes = 8192, .record_bytes_max = 4096});  // one segment of two
  ASSERT_EQ(one.memory_bytes(), 8192u);
  auto first = one.Reserve(4096);
  auto second = one.Reserve(4096);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(one.Reserve(4096), nullptr);
  first.reset();
  EXPECT_EQ(one.Reserve(4096), nullptr);  // still held by the second
  second.reset();
  EXPECT_NE(one.Reserve(4096), nullptr);
}

// Eviction passes over a held segment, entries and all, and empties the next one instead; once
// let go, the held one goes in its turn.
TEST(PayloadCacheTest, EvictionPassesOverHeldSegments) {
  // Four segments (a record of 4 KiB reserves its header block and a sub-block: 68 KiB).
  PayloadCache cache({.capacity_bytes = 4 * 69632, .record_bytes_max = 4096});
  ASSERT_EQ(cache.segment_bytes(), 69632u);
  ASSERT_EQ(cache.memory_bytes(), 4u * 69632);
  const uint64_t per_segment = 69632 / 4096;  // 17
  std::shared_ptr<const CachedRecord> held = Keep(cache, 1, 4096, 4096, 0xAB);
  ASSERT_NE(held, nullptr);
  for (uint64_t i = 1; i < 4 * per_segment; i++) ASSERT_NE(Keep(cache, 1, (i + 1) * 4096, 4096), nullptr);
  ASSERT_NE(Keep(cache, 2, 4096, 4096), nullptr);  // the first segment is held: the second goes
  EXPECT_NE(cache.Find(1, 4096), nullptr);
  EXPECT_NE(cache.Find(1, per_segment * 4096), nullptr);
  EXPECT_EQ(cache.Find(1, (per_segment + 1) * 4096), nullptr);
  EXPECT_EQ(cache.Find(1, 2 * per_segment * 4096), nullptr);
  EXPECT_NE(cache.Find(1, (2 * per_segment + 1) * 4096), nullptr);
  // Everything held: nothing is evicted, nothing new is kept.
  std::vector<std::shared_ptr<const CachedRecord>> all;
  for (uint64_t i = 0; i < 4 * per_segment; i++) {
    if (auto found = cache.Find(1, (i + 1) * 4096)) all.push_back(found);
  }
  for (uint64_t i = 0; i < per_segment; i++) {
    if (auto found = cache.Find(2, (i + 1) * 4096)) all.push_back(found);
  }
  for (uint64_t i = 1; i < per_segment; i++) Keep(cache, 2, (i + 1) * 4096, 4096);  // fill the open one
  for (uint64_t i = 0; i < per_segment; i++) {
    if (auto found = cache.Find(2, (i + 1) * 4096)) all.push_back(found);
  }
  const size_t entries = cache.entries();
  EXPECT_EQ(cache.Reserve(4096), nullptr);
  EXPECT_EQ(cache.entries(), entries) << "no entry dropped for nothing";
  EXPECT_TRUE(AllBytesAre(*held, 0xAB));
  all.clear();
  held.reset();
  EXPECT_NE(cache.Reserve(4096), nullptr);
}

}  // namespace
}  // namespace cerulean::storage
