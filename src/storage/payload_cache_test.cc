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
  PayloadCache cache({.capacity_bytes = 1 << 20, .record_bytes_max = 4096});
  std::shared_ptr<const CachedRecord> held = Keep(cache, 1, 4096, 4096, 0xAB);
  ASSERT_NE(held, nullptr);
  for (uint64_t i = 0; i < 2000; i++) ASSERT_NE(Keep(cache, 2, (i + 1) * 4096, 4096, 0x11), nullptr);
  EXPECT_EQ(cache.Find(1, 4096), nullptr);  // dropped from the cache...
  EXPECT_TRUE(AllBytesAre(*held, 0xAB));    // ...but its bytes are as they were

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

// A read whose reserved memory was evicted while it was on the disk is served but not kept: its
// segment may be refilled once the read lets go.
TEST(PayloadCacheTest, AReservationWhoseSegmentWasEvictedIsNotKept) {
  PayloadCache cache({.capacity_bytes = 16384, .record_bytes_max = 4096});  // two segments of two
  ASSERT_EQ(cache.segment_bytes(), 8192u);
  std::shared_ptr<CachedRecord> slow = cache.Reserve(4096);
  ASSERT_NE(slow, nullptr);
  ASSERT_NE(Keep(cache, 1, 4096, 4096), nullptr);
  ASSERT_NE(Keep(cache, 1, 8192, 4096), nullptr);
  ASSERT_NE(Keep(cache, 1, 12288, 4096), nullptr);  // evicts both; refills the unheld one
  ASSERT_NE(Keep(cache, 1, 16384, 4096), nullptr);
  EXPECT_EQ(cache.Find(1, 4096), nullptr);
  slow->facts.payload_bytes = 4096;
  cache.Insert(1, 20480, slow);
  EXPECT_EQ(cache.Find(1, 20480), nullptr);
  EXPECT_NE(cache.Find(1, 16384), nullptr);
}

}  // namespace
}  // namespace cerulean::storage
