#include "kv/kv_store.h"

#include <gtest/gtest.h>

#include <random>

#include "base/crc32c.h"
#include "runtime/sim/sim_disk.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_test_support.h"
#include "runtime/sim/sim_world.h"
#include "runtime/sleep.h"
#include "runtime/when_all.h"

namespace cerulean::kv {
namespace {

constexpr uint32_t kNs = 1;

KvKey KeyNumber(uint64_t n, uint32_t salt = 0) {
  KvKey key;
  std::mt19937_64 random(n * 1000003 + salt);
  for (size_t i = 0; i < 32; i += 8) {
    const uint64_t word = random();
    std::memcpy(key.bytes.data() + i, &word, 8);
  }
  return key;
}

std::vector<std::byte> ValueFor(const KvKey& key, size_t bytes) {
  std::vector<std::byte> value(bytes);
  for (size_t i = 0; i < bytes; i++) value[i] = static_cast<std::byte>(key.bytes[i % 32] + i / 32);
  return value;
}

// A value as Get and, for one in the SSD tier, ReadFromSsd give it: its bytes, or nothing.
Task<Result<std::optional<std::vector<std::byte>>>> Fetch(KvStore* store, uint32_t ns, KvKey key, bool* from_ssd) {
  CO_ASSIGN_OR_RETURN(std::optional<KvValue> value, store->Get(ns, key));
  if (!value) co_return std::optional<std::vector<std::byte>>();
  *from_ssd = value->on_ssd;
  if (value->on_ssd) {
    Status read = co_await store->ReadFromSsd(ns, key, *value);
    if (read.code() == StatusCode::kNotFound) co_return std::optional<std::vector<std::byte>>();
    CO_RETURN_IF_ERROR(read);
  }
  if (value->crc != Crc32c(value->bytes)) co_return Status::Internal("the value does not match its CRC");
  co_return std::optional<std::vector<std::byte>>(std::vector<std::byte>(value->bytes.begin(), value->bytes.end()));
}

class KvStoreTest : public ::testing::Test {
 protected:
  KvStoreTest() : world_(SimSeed()), env_(world_.AddNode("10.0.0.1")) {}
  ~KvStoreTest() override {
    if (store_ != nullptr && store_->ssd() != nullptr) RunToCompletion(world_, env_, CloseStore(store_.get()));
  }
  static Task<bool> CloseStore(KvStore* store) {
    co_await store->Close();
    co_return true;
  }

  void Open(KvStoreOptions options, SsdTierOptions ssd_options = {}) {
    std::unique_ptr<SsdTier> ssd;
    if (ssd_options.capacity_bytes != 0) {
      auto opened = RunToCompletion(world_, env_, SsdTier::Open(env_, ssd_options));
      ASSERT_TRUE(opened.has_value() && opened->ok()) << opened->status();
      ssd = std::move(**opened);
    }
    auto store = KvStore::Create(env_, options, std::move(ssd));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    store_->SetNamespace({.id = kNs, .name = "test"});
  }
  Result<PutOutcome> Put(const KvPut& put, uint32_t ns = kNs) {
    auto result = RunToCompletion(world_, env_, store_->Put(ns, put));
    CHECK(result.has_value());
    return std::move(*result);
  }
  Result<PutOutcome> PutValue(const KvKey& key, size_t bytes, uint32_t ttl_s = 0, bool pin = false) {
    const std::vector<std::byte> value = ValueFor(key, bytes);
    return Put({.key = key, .value = value, .ttl_s = ttl_s, .pin = pin});
  }
  bool Has(const KvKey& key, uint32_t ns = kNs) {
    auto found = store_->Get(ns, key);
    CHECK(found.ok()) << found.status();
    if (!found->has_value()) return false;
    const std::vector<std::byte> expected = ValueFor(key, (*found)->bytes.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), (*found)->bytes.begin())) << "value of " << key.Hex();
    EXPECT_EQ((*found)->crc, Crc32c((*found)->bytes));
    return true;
  }

  // Whether the key is present (checking its bytes), from either tier.
  bool Found(const KvKey& key, bool* from_ssd = nullptr) {
    bool ssd = false;
    auto fetched = RunToCompletion(world_, env_, Fetch(store_.get(), kNs, key, &ssd));
    CHECK(fetched.has_value());
    EXPECT_TRUE(fetched->ok()) << fetched->status();
    if (!fetched->ok() || !fetched->value().has_value()) return false;
    const std::vector<std::byte>& bytes = *fetched->value();
    EXPECT_EQ(bytes, ValueFor(key, bytes.size())) << "value of " << key.Hex();
    if (from_ssd != nullptr) *from_ssd = ssd;
    return true;
  }

  SimWorld world_;
  Env& env_;
  std::unique_ptr<KvStore> store_;
};

TEST_F(KvStoreTest, PutGetRoundTripsWithPieces) {
  Open({.dram_bytes = 8 << 20, .segment_bytes = 1 << 20});
  const KvKey key = KeyNumber(1);
  const std::vector<std::byte> value = ValueFor(key, 3 * 4096);
  const uint32_t pieces[] = {4096, 4096, 4096};
  auto put = Put({.key = key, .piece_bytes = pieces, .value = value, .value_crc = Crc32c(value)});
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(*put, PutOutcome::kStored);
  auto got = store_->Get(kNs, key);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->piece_bytes.size(), 3u);
  EXPECT_EQ((*got)->piece_bytes[1], 4096u);
  EXPECT_TRUE(std::equal(value.begin(), value.end(), (*got)->bytes.begin()));
  // Put-if-absent: a second put of the key changes nothing, whatever its bytes.
  const std::vector<std::byte> other(100, std::byte{7});
  auto again = Put({.key = key, .value = other});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, PutOutcome::kAlreadyPresent);
  EXPECT_EQ(store_->Get(kNs, key)->value().bytes.size(), value.size());
}

TEST_F(KvStoreTest, BadInputGetsClearErrorsAndStoresNothing) {
  Open({.dram_bytes = 8 << 20, .segment_bytes = 1 << 20});
  store_->SetNamespace({.id = 2, .name = "small", .value_bytes_max = 1000, .pieces_max = 4});
  const KvKey key = KeyNumber(2);
  const std::vector<std::byte> value(2000);
  EXPECT_EQ(Put({.key = key, .value = value}, 2).status().code(), StatusCode::kOutOfRange);
  const uint32_t wrong_sum[] = {100, 100};
  EXPECT_EQ(Put({.key = key, .piece_bytes = wrong_sum, .value = std::span(value).first(500)}, 2).status().code(),
            StatusCode::kInvalidArgument);
  const uint32_t too_many[] = {1, 1, 1, 1, 1};
  EXPECT_EQ(Put({.key = key, .piece_bytes = too_many, .value = std::span(value).first(5)}, 2).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Put({.key = key, .value = value}, 99).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(99, key).status().code(), StatusCode::kNotFound);
  // Bytes that do not match the CRC the client sent are refused and never visible.
  EXPECT_EQ(Put({.key = key, .value = std::span(value).first(10), .value_crc = 12345}, 2).status().code(),
            StatusCode::kDataLoss);
  EXPECT_FALSE(store_->Get(2, key)->has_value());
  EXPECT_EQ(store_->Stats().entries, 0u);
}

TEST_F(KvStoreTest, NamespacesAreIsolatedAndQuotasHold) {
  Open({.dram_bytes = 8 << 20, .segment_bytes = 1 << 20});
  store_->SetNamespace({.id = 2, .name = "tenant-b", .quota_bytes = 10'000});
  const KvKey key = KeyNumber(3);
  ASSERT_TRUE(PutValue(key, 1000).ok());
  EXPECT_FALSE(Has(key, 2)) << "another namespace sees the entry";
  EXPECT_TRUE(Has(key, kNs));
  for (int i = 0; i < 9; i++) ASSERT_TRUE(Put({.key = KeyNumber(100 + i), .value = ValueFor(KeyNumber(100 + i), 1000)}, 2).ok());
  auto over = Put({.key = KeyNumber(200), .value = ValueFor(KeyNumber(200), 1001)}, 2);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted) << over.status();
  EXPECT_EQ(store_->NamespaceBytes(2), 9000u);
  ASSERT_TRUE(*store_->Remove(2, KeyNumber(100)));
  EXPECT_TRUE(Put({.key = KeyNumber(200), .value = ValueFor(KeyNumber(200), 1001)}, 2).ok());
}

TEST_F(KvStoreTest, EntriesExpireAfterTheirTtl) {
  Open({.dram_bytes = 8 << 20, .segment_bytes = 1 << 20});
  store_->SetNamespace({.id = 2, .name = "short", .default_ttl_s = 5});
  ASSERT_TRUE(PutValue(KeyNumber(1), 100, /*ttl_s=*/2).ok());
  ASSERT_TRUE(PutValue(KeyNumber(2), 100).ok());
  ASSERT_TRUE(Put({.key = KeyNumber(3), .value = ValueFor(KeyNumber(3), 100)}, 2).ok());
  world_.RunFor(std::chrono::milliseconds(2500));
  EXPECT_FALSE(Has(KeyNumber(1)));
  EXPECT_TRUE(Has(KeyNumber(2)));
  EXPECT_TRUE(Has(KeyNumber(3), 2));
  world_.RunFor(std::chrono::seconds(3));
  EXPECT_FALSE(Has(KeyNumber(3), 2));
  EXPECT_TRUE(Has(KeyNumber(2)));
  EXPECT_EQ(store_->NamespaceBytes(2), 0u);
}

TEST_F(KvStoreTest, ExpireAndTimeToLiveFollowRedisConventions) {
  Open({.dram_bytes = 8 << 20, .segment_bytes = 1 << 20});
  ASSERT_TRUE(PutValue(KeyNumber(1), 100).ok());
  EXPECT_EQ(*store_->TimeToLive(kNs, KeyNumber(1)), -1);
  EXPECT_EQ(*store_->TimeToLive(kNs, KeyNumber(2)), -2);
  EXPECT_TRUE(*store_->Expire(kNs, KeyNumber(1), 10));
  EXPECT_FALSE(*store_->Expire(kNs, KeyNumber(2), 10));
  world_.RunFor(std::chrono::seconds(4));
  const int64_t left = *store_->TimeToLive(kNs, KeyNumber(1));
  EXPECT_GE(left, 5);
  EXPECT_LE(left, 6);
  world_.RunFor(std::chrono::seconds(7));
  EXPECT_EQ(*store_->TimeToLive(kNs, KeyNumber(1)), -2);
}

// Fill far past capacity: the oldest go first, in segments, and the cache keeps holding at
// least 95% of its configured size in live values.
TEST_F(KvStoreTest, EvictsOldestSegmentsAndUsesAtLeast95PercentOfItsSize) {
  const uint64_t capacity = 64 << 20;
  Open({.dram_bytes = capacity, .segment_bytes = 1 << 20});
  for (size_t value_bytes : {size_t{4096 - 64}, size_t{64 << 10}, size_t{2 << 20}}) {
    double least_fill = 1.0;
    const size_t count = 3 * capacity / value_bytes;
    for (size_t i = 0; i < count; i++) {
      ASSERT_TRUE(PutValue(KeyNumber(i, static_cast<uint32_t>(value_bytes)), value_bytes).ok());
      if (i * value_bytes > 2 * capacity) {
        least_fill = std::min(least_fill, static_cast<double>(store_->Stats().live_value_bytes) / static_cast<double>(capacity));
      }
    }
    EXPECT_GE(least_fill, 0.95) << value_bytes << "-byte values";
    EXPECT_FALSE(Has(KeyNumber(0, static_cast<uint32_t>(value_bytes))));
    EXPECT_TRUE(Has(KeyNumber(count - 1, static_cast<uint32_t>(value_bytes))));
  }
  EXPECT_GT(store_->Stats().evicted, 0u);
}

// Pinned and leased entries outlive any amount of churn; a read gives a second chance.
TEST_F(KvStoreTest, NeverEvictsPinnedOrLeasedEntries) {
  Open({.dram_bytes = 16 << 20, .segment_bytes = 1 << 20});
  const KvKey pinned = KeyNumber(1), leased = KeyNumber(2), read = KeyNumber(3), plain = KeyNumber(4);
  ASSERT_TRUE(PutValue(pinned, 10000, 0, /*pin=*/true).ok());
  ASSERT_TRUE(PutValue(leased, 10000).ok());
  ASSERT_TRUE(PutValue(read, 10000).ok());
  ASSERT_TRUE(PutValue(plain, 10000).ok());
  ASSERT_TRUE(*store_->LookupPrefix(kNs, std::vector<KvKey>{leased}, /*lease=*/true) == 1);
  EXPECT_TRUE(Has(read));
  // One lap of the log: everything unprotected and unread is gone, the read one had its chance.
  for (size_t i = 0; i < (16 << 20) / 10000; i++) ASSERT_TRUE(PutValue(KeyNumber(1000 + i), 10000).ok());
  EXPECT_TRUE(Has(pinned));
  EXPECT_TRUE(Has(leased));
  EXPECT_FALSE(Has(plain));
  EXPECT_GT(store_->Stats().second_chances, 0u);
  // Churn for longer than the lease, with the pinned entry kept throughout.
  for (int lap = 0; lap < 3; lap++) {
    world_.RunFor(std::chrono::seconds(6));
    for (size_t i = 0; i < (16 << 20) / 10000; i++) ASSERT_TRUE(PutValue(KeyNumber(100000 * (lap + 1) + i), 10000).ok());
  }
  EXPECT_TRUE(Has(pinned));
  EXPECT_FALSE(Has(leased)) << "the lease ended long ago";
  ASSERT_TRUE(*store_->Unpin(kNs, pinned));
  for (int lap = 0; lap < 2; lap++) {
    for (size_t i = 0; i < (16 << 20) / 10000; i++) ASSERT_TRUE(PutValue(KeyNumber(900000 + lap * 10000 + i), 10000).ok());
  }
  EXPECT_FALSE(Has(pinned));
  const KvKey last = KeyNumber(900000 + 10000 + (16 << 20) / 10000 - 1);
  EXPECT_EQ(store_->Unpin(kNs, last).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(KvStoreTest, AFullyPinnedTierRefusesPutsCleanly) {
  Open({.dram_bytes = 4 << 20, .segment_bytes = 1 << 20});
  size_t stored = 0;
  for (size_t i = 0;; i++) {
    auto put = PutValue(KeyNumber(i), 100'000, 0, /*pin=*/true);
    if (!put.ok()) {
      EXPECT_EQ(put.status().code(), StatusCode::kResourceExhausted) << put.status();
      break;
    }
    stored++;
  }
  EXPECT_GE(stored * 100'000, (4u << 20) * 9 / 10);
  for (size_t i = 0; i < stored; i++) EXPECT_TRUE(Has(KeyNumber(i))) << i;
}

Task<void> PutAndMark(KvStore& store, KvKey key, size_t bytes, bool& done) {
  const std::vector<std::byte> value = ValueFor(key, bytes);
  auto put = co_await store.Put(kNs, {.key = key, .value = value});
  EXPECT_TRUE(put.ok()) << put.status();
  done = true;
}

// A reader holding the oldest segment makes a put wait, not overwrite the bytes being sent.
TEST_F(KvStoreTest, APutWaitsForReadersOfTheSegmentItNeeds) {
  Open({.dram_bytes = 4 << 20, .segment_bytes = 1 << 20});
  const KvKey first = KeyNumber(1);
  ASSERT_TRUE(PutValue(first, 500'000).ok());
  for (size_t i = 2; i < 9; i++) ASSERT_TRUE(PutValue(KeyNumber(i), 500'000).ok());
  auto held = store_->Get(kNs, first);
  ASSERT_TRUE(held.ok() && held->has_value());
  bool done = false;
  Spawn(env_, PutAndMark(*store_, KeyNumber(50), 500'000, done));
  world_.RunFor(std::chrono::milliseconds(100));
  EXPECT_FALSE(done);
  const std::vector<std::byte> expected = ValueFor(first, 500'000);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), (*held)->bytes.begin())) << "bytes under a reader changed";
  (*held)->hold.Release();
  world_.RunUntil([&] { return done; });
  EXPECT_TRUE(done);
}

struct RaceTally {
  int stored = 0, present = 0, failed = 0, partial = 0;
};

// Coroutines take what they use as parameters: a capturing lambda's closure dies before its
// coroutine does.
Task<void> RacingWriter(SimWorld& world, Env& env, KvStore& store, int id, RaceTally& tally) {
  co_await Sleep(env, std::chrono::microseconds(world.RandomBelow(50)));
  // Fill the log first so that puts have to evict (and some wait for readers).
  const std::vector<std::byte> filler = ValueFor(KeyNumber(id + 100), 900'000);
  (void)co_await store.Put(kNs, {.key = KeyNumber(id + 100), .value = filler});
  const std::vector<std::byte> value = ValueFor(KeyNumber(7), 300'000);
  auto put = co_await store.Put(kNs, {.key = KeyNumber(7), .value = value});
  if (!put.ok()) tally.failed++;
  else if (*put == PutOutcome::kStored) tally.stored++;
  else tally.present++;
}

Task<void> RacingReader(SimWorld& world, Env& env, KvStore& store, RaceTally& tally) {
  const std::vector<std::byte> expected = ValueFor(KeyNumber(7), 300'000);
  for (int i = 0; i < 20; i++) {
    auto got = store.Get(kNs, KeyNumber(7));
    if (got.ok() && got->has_value()) {
      // Hold the value across a pause, as a response being sent does.
      co_await Sleep(env, std::chrono::microseconds(world.RandomBelow(20)));
      if ((*got)->bytes.size() != expected.size() || !std::equal(expected.begin(), expected.end(), (*got)->bytes.begin())) {
        tally.partial++;
      }
    } else {
      co_await Sleep(env, std::chrono::microseconds(world.RandomBelow(20)));
    }
  }
}

Task<int> AllOf(std::vector<Task<void>> tasks) {
  co_await WhenAll(std::move(tasks));
  co_return 0;
}

// Many puts of one key at once, with readers in between: one stores, the rest find it, and no
// reader ever sees a value that is not whole.
// The SSD tier: 4 MiB of DRAM over 8 MiB of SSD in 1 MiB extents.
constexpr SsdTierOptions kSsd{.directory = "/kv-ssd", .capacity_bytes = 8 << 20, .extent_bytes = 1 << 20};
constexpr KvStoreOptions kSmallDram{.dram_bytes = 4 << 20, .segment_bytes = 64 << 10};

// Entries DRAM evicts go to the SSD tier and still hit; the SSD tier evicts its oldest extent.
TEST_F(KvStoreTest, DemotesToTheSsdTierAndServesItsHits) {
  Open(kSmallDram, kSsd);
  constexpr size_t kValue = 16 << 10, kCount = 2000;  // 32 MiB through 12 MiB of tiers
  for (size_t i = 0; i < kCount; i++) ASSERT_TRUE(PutValue(KeyNumber(i), kValue).ok()) << i;
  const KvStoreStats stats = store_->Stats();
  EXPECT_GT(stats.demoted, 0u);
  EXPECT_GT(stats.ssd_evicted, 0u);
  EXPECT_LE(stats.ssd_used_bytes, kSsd.capacity_bytes);
  // The newest 550 (9 MiB) are all in one tier or the other, byte for byte.
  size_t from_ssd = 0;
  for (size_t i = kCount - 550; i < kCount; i++) {
    bool ssd = false;
    EXPECT_TRUE(Found(KeyNumber(i), &ssd)) << i;
    from_ssd += ssd ? 1 : 0;
  }
  EXPECT_GT(from_ssd, 200u);
  EXPECT_FALSE(Found(KeyNumber(0)));
  EXPECT_EQ(store_->Stats().ssd_hits, from_ssd);
  // Removing an SSD entry works like any other.
  ASSERT_TRUE(*store_->Remove(kNs, KeyNumber(kCount - 550)));
  EXPECT_FALSE(Found(KeyNumber(kCount - 550)));
}

// An SSD hit is promoted back to DRAM in the background.
TEST_F(KvStoreTest, SsdHitsArePromotedToDram) {
  Open(kSmallDram, kSsd);
  for (size_t i = 0; i < 400; i++) ASSERT_TRUE(PutValue(KeyNumber(i), 16 << 10).ok());
  bool ssd = false;
  ASSERT_TRUE(Found(KeyNumber(0), &ssd));
  ASSERT_TRUE(ssd);
  world_.RunFor(std::chrono::milliseconds(100));
  EXPECT_EQ(store_->Stats().promoted, 1u);
  ASSERT_TRUE(Found(KeyNumber(0), &ssd));
  EXPECT_FALSE(ssd);
}

// Pinned and leased entries in the SSD tier are carried forward when their extent leaves.
TEST_F(KvStoreTest, PinnedAndLeasedEntriesSurviveSsdTurnover) {
  Open(kSmallDram, kSsd);
  const KvKey pinned = KeyNumber(1), leased = KeyNumber(2), plain = KeyNumber(3);
  for (const KvKey& key : {pinned, leased, plain}) ASSERT_TRUE(PutValue(key, 20000).ok());
  for (size_t i = 0; i < 400; i++) ASSERT_TRUE(PutValue(KeyNumber(1000 + i), 16 << 10).ok());
  const KvStoreStats before = store_->Stats();
  ASSERT_GT(before.demoted, 0u);
  ASSERT_TRUE(*store_->Pin(kNs, pinned));  // both in the SSD tier now
  ASSERT_TRUE(*store_->Exists(kNs, leased, /*lease=*/true));
  for (size_t i = 0; i < 1500; i++) ASSERT_TRUE(PutValue(KeyNumber(5000 + i), 16 << 10).ok());
  EXPECT_GT(store_->Stats().ssd_carried, 0u);
  EXPECT_FALSE(Found(plain));
  EXPECT_TRUE(Found(pinned));
  EXPECT_TRUE(Found(leased));
}

// With an SSD tier, pinned entries beyond the DRAM tier's size go to SSD rather than refuse
// puts: a pin keeps an entry in the cache, not in DRAM.
TEST_F(KvStoreTest, PinnedEntriesPastDramAreDemotedNotRefused) {
  Open(kSmallDram, kSsd);
  constexpr size_t kCount = 400;  // 6.4 MiB, pinned, through 4 MiB of DRAM
  for (size_t i = 0; i < kCount; i++) ASSERT_TRUE(PutValue(KeyNumber(i), 16 << 10, 0, /*pin=*/true).ok()) << i;
  EXPECT_GT(store_->Stats().demoted, 0u);
  for (size_t i = 0; i < kCount; i++) EXPECT_TRUE(Found(KeyNumber(i))) << i;
}

// A record that fails its checksums in the SSD tier is DataLoss, never its bytes, and is dropped.
TEST_F(KvStoreTest, CorruptSsdRecordsAreDataLossAndDropped) {
  Open(kSmallDram, kSsd);
  for (size_t i = 0; i < 300; i++) ASSERT_TRUE(PutValue(KeyNumber(i), 16 << 10).ok());
  ASSERT_GT(store_->Stats().demoted, 0u);
  // The first batch of the first extent starts with the oldest record, KeyNumber(0)'s.
  const std::string path = std::string(kSsd.directory) + "/extents/0000000000000001.ext";
  ASSERT_TRUE(world_.disk("10.0.0.1").FlipBit(path, 2 * 4096 + 1000, 2).ok());
  bool ssd = false;
  auto fetched = RunToCompletion(world_, env_, Fetch(store_.get(), kNs, KeyNumber(0), &ssd));
  ASSERT_TRUE(fetched.has_value());
  EXPECT_EQ(fetched->status().code(), StatusCode::kDataLoss) << fetched->status();
  EXPECT_FALSE(Found(KeyNumber(0))) << "dropped after the failed read";
  EXPECT_TRUE(Found(KeyNumber(10))) << "other sub-blocks of the batch still verify";
}

TEST(KvStoreRaceTest, ConcurrentPutsOfOneKeyHaveOneWinner) {
  for (uint64_t seed : SimSeeds(20)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    Env& env = world.AddNode("10.0.0.2");
    auto created = KvStore::Create(env, {.dram_bytes = 4 << 20, .segment_bytes = 1 << 20});
    ASSERT_TRUE(created.ok());
    KvStore& store = **created;
    store.SetNamespace({.id = kNs, .name = "race"});
    RaceTally tally;
    std::vector<Task<void>> tasks;
    for (int id = 0; id < 8; id++) {
      tasks.push_back(RacingWriter(world, env, store, id, tally));
      tasks.push_back(RacingReader(world, env, store, tally));
    }
    ASSERT_TRUE(RunToCompletion(world, env, AllOf(std::move(tasks))).has_value());
    EXPECT_EQ(tally.stored, 1);
    EXPECT_EQ(tally.present, 7);
    EXPECT_EQ(tally.failed, 0);
    EXPECT_EQ(tally.partial, 0);
  }
}

}  // namespace
}  // namespace cerulean::kv
