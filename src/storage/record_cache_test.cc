#include "storage/record_cache.h"

#include <gtest/gtest.h>

namespace cerulean::storage {
namespace {

TEST(RecordCacheTest, FindsWhatWasInsertedUnderTheSameKeyAndOffsetOnly) {
  RecordCache cache(1024);
  EXPECT_EQ(cache.capacity(), 1024u);
  EXPECT_FALSE(cache.Find(1, 4096).has_value());
  cache.Insert(1, 4096, {.payload_bytes = 100, .payload_crc = 0xABCD});
  ASSERT_TRUE(cache.Find(1, 4096).has_value());
  EXPECT_EQ(cache.Find(1, 4096)->payload_bytes, 100u);
  EXPECT_EQ(cache.Find(1, 4096)->payload_crc, 0xABCDu);
  EXPECT_FALSE(cache.Find(2, 4096).has_value());  // another incarnation of the extent
  EXPECT_FALSE(cache.Find(1, 8192).has_value());
}

TEST(RecordCacheTest, ACollidingInsertReplacesAndNeverAnswersForAnotherRecord) {
  RecordCache cache(4);  // tiny: most inserts collide
  for (uint64_t i = 0; i < 100; i++) cache.Insert(7, 4096 * (i + 1), {.payload_bytes = uint32_t(i), .payload_crc = 0});
  size_t found = 0;
  for (uint64_t i = 0; i < 100; i++) {
    auto facts = cache.Find(7, 4096 * (i + 1));
    if (!facts) continue;
    found++;
    EXPECT_EQ(facts->payload_bytes, i);
  }
  EXPECT_GE(found, 1u);
  EXPECT_LE(found, 4u);
}

TEST(RecordCacheTest, ZeroEntriesKeepsNothing) {
  RecordCache cache(0);
  cache.Insert(1, 4096, {.payload_bytes = 1, .payload_crc = 2});
  EXPECT_FALSE(cache.Find(1, 4096).has_value());
  EXPECT_EQ(cache.capacity(), 0u);
}

TEST(RecordCacheTest, EntriesRoundDownToAPowerOfTwo) { EXPECT_EQ(RecordCache(1000).capacity(), 512u); }

}  // namespace
}  // namespace cerulean::storage
