#include "storage/payload_cache.h"

#include <gtest/gtest.h>

namespace cerulean::storage {
namespace {

std::shared_ptr<const CachedRecord> Record(size_t payload_bytes) {
  auto record = std::make_shared<CachedRecord>();
  record->bytes = PooledBuffer::Allocate(RoundUpToBlock(std::max<size_t>(payload_bytes, 1)));
  record->facts.payload_bytes = static_cast<uint32_t>(payload_bytes);
  return record;
}

TEST(PayloadCacheTest, OffKeepsNothing) {
  PayloadCache cache({});
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(cache.Admits(4096));
  cache.Insert(1, 4096, Record(4096));
  EXPECT_EQ(cache.Find(1, 4096), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(PayloadCacheTest, KeepsRecordsUpToTheSizeLimitByExtentIncarnation) {
  PayloadCache cache({.capacity_bytes = 1 << 20, .record_bytes_max = 64 << 10});
  auto record = Record(4096);
  cache.Insert(1, 4096, record);
  EXPECT_EQ(cache.Find(1, 4096), record);
  EXPECT_EQ(cache.Find(2, 4096), nullptr);  // another incarnation of the extent
  EXPECT_EQ(cache.Find(1, 8192), nullptr);
  cache.Insert(1, 8192, Record((64 << 10) + 1));  // over the record limit
  EXPECT_EQ(cache.Find(1, 8192), nullptr);
  cache.Insert(1, 4096, Record(4096));  // already there: the first stays
  EXPECT_EQ(cache.Find(1, 4096), record);
  EXPECT_EQ(cache.bytes(), 4096u);
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(PayloadCacheTest, StaysInBudgetAndGivesReadEntriesASecondChance) {
  const size_t budget = 16 * 4096;
  PayloadCache cache({.capacity_bytes = budget, .record_bytes_max = 64 << 10});
  for (uint64_t i = 0; i < 16; i++) cache.Insert(1, (i + 1) * 4096, Record(4096));
  EXPECT_EQ(cache.entries(), 16u);
  EXPECT_NE(cache.Find(1, 1 * 4096), nullptr);  // read: survives the next eviction
  std::shared_ptr<const CachedRecord> held = cache.Find(1, 2 * 4096);
  cache.Insert(1, 100 * 4096, Record(4096));
  EXPECT_LE(cache.bytes(), budget);
  EXPECT_NE(cache.Find(1, 1 * 4096), nullptr);
  EXPECT_NE(cache.Find(1, 100 * 4096), nullptr);
  // Many more inserts, none read: the budget holds, and a dropped entry stays valid for whoever
  // still sends from it.
  for (uint64_t i = 200; i < 1200; i++) {
    cache.Insert(1, i * 4096, Record(i % 3 == 0 ? 12288 : 4096));
    ASSERT_LE(cache.bytes(), budget);
  }
  EXPECT_EQ(cache.Find(1, 2 * 4096), nullptr);
  EXPECT_EQ(held->facts.payload_bytes, 4096u);
  EXPECT_NE(cache.Find(1, 1199 * 4096), nullptr);  // the newest is there
}

TEST(PayloadCacheTest, ARecordLargerThanTheWholeBudgetIsNotKept) {
  PayloadCache cache({.capacity_bytes = 8192, .record_bytes_max = 1 << 20});
  cache.Insert(1, 4096, Record(4096));
  cache.Insert(1, 8192, Record(16384));
  EXPECT_EQ(cache.Find(1, 8192), nullptr);
  EXPECT_NE(cache.Find(1, 4096), nullptr);  // and nothing was evicted for it
}

}  // namespace
}  // namespace cerulean::storage
