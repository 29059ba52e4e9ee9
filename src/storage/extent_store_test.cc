// The extent store on the real disk through io_uring and O_DIRECT.
#include "storage/extent_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <tuple>

#include "base/crc32c.h"
#include "base/metrics.h"
#include "runtime/test_directory.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"

namespace cerulean::storage {
namespace {

using cerulean::testing::RunOnLoop;

class ExtentStoreTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"extents"};
  // A store directory that does not exist yet: Open must create it.
  const std::string directory_ = temporary_ / "store";

  // The store with a payload cache of 16 MiB for records of up to 1 MiB.
  Task<Result<std::unique_ptr<ExtentStore>>> OpenWithPayloadCache(Env& env) {
    ExtentStoreOptions options;
    options.payload_cache = {.capacity_bytes = 16 << 20, .record_bytes_max = 1 << 20};
    co_return co_await ExtentStore::Open(env, directory_, options);
  }
};

PooledBuffer Payload(size_t bytes, uint8_t seed) {
  PooledBuffer buffer = PooledBuffer::Allocate(bytes);
  for (size_t i = 0; i < bytes; i++) buffer.data()[i] = std::byte((i * 7 + seed) & 0xFF);
  return buffer;
}

TEST_F(ExtentStoreTest, AppendReadReopenOnARealDisk) {
  RunOnLoop([&](Env& env) -> Task<void> {
    std::vector<AppendResult> records;
    {
      auto store = co_await ExtentStore::Open(env, directory_, {});
      EXPECT_TRUE(store.ok()) << store.status();
      EXPECT_TRUE((co_await (*store)->Create(10)).ok());
      EXPECT_TRUE((co_await (*store)->Create(10)).ok());  // a retried create
      EXPECT_EQ((co_await (*store)->Create(10, Durability::kNone)).code(), StatusCode::kAlreadyExists);
      std::vector<Task<Result<AppendResult>>> appends;
      for (int i = 0; i < 32; i++) appends.push_back((*store)->Append(10, Payload(1000 + i * 3000, i)));
      for (auto& result : co_await WhenAll(std::move(appends))) {
        EXPECT_TRUE(result.ok()) << result.status();
        records.push_back(*result);
      }
      EXPECT_GT((*store)->usage().used_bytes, 0u);
      EXPECT_GT((*store)->usage().capacity_bytes, (*store)->usage().used_bytes);
      co_await (*store)->Close();
    }
    auto store = co_await ExtentStore::Open(env, directory_, {});
    EXPECT_TRUE(store.ok());
    for (size_t i = 0; i < records.size(); i++) {
      const size_t bytes = 1000 + i * 3000;
      auto read = co_await (*store)->Read(10, records[i].record_offset, 0, bytes);
      EXPECT_TRUE(read.ok()) << read.status();
      PooledBuffer expected = Payload(bytes, static_cast<uint8_t>(i));
      EXPECT_EQ(std::memcmp(read->bytes().data(), expected.data(), bytes), 0);
    }
    co_await (*store)->Close();
  });
}

// Freeze, the first half of a seal: the appends already accepted land and count towards the
// length it answers; later ones are refused as on a sealed extent. So sealing at that length
// cuts no acknowledged append. Freezing lives in memory only: a restart opens the extent again.
TEST_F(ExtentStoreTest, AFrozenExtentLetsAcceptedAppendsLandAndTakesNoMore) {
  RunOnLoop([&](Env& env) -> Task<void> {
    {
      auto store = co_await ExtentStore::Open(env, directory_, {});
      EXPECT_TRUE(store.ok()) << store.status();
      if (!store.ok()) co_return;
      EXPECT_TRUE((co_await (*store)->Create(5)).ok());
      EXPECT_TRUE((co_await (*store)->Create(6)).ok());
      // The appends are accepted (queued) before the freeze starts; it waits for all of them.
      std::vector<Task<Result<AppendResult>>> appends;
      for (int i = 0; i < 16; i++) appends.push_back((*store)->Append(5, Payload(100000 + i * 4096, i)));
      std::optional<Result<ExtentInfo>> frozen;
      auto freeze = [&]() -> Task<Result<AppendResult>> {
        frozen = co_await (*store)->Freeze(5);
        co_return Status::Cancelled("not an append");
      };
      appends.push_back(freeze());
      std::vector<Result<AppendResult>> results = co_await WhenAll(std::move(appends));
      EXPECT_TRUE(frozen && frozen->ok());
      if (!frozen || !frozen->ok()) co_return;
      const uint64_t length = (**frozen).length;
      EXPECT_FALSE((**frozen).sealed);
      for (int i = 0; i < 16; i++) {
        EXPECT_TRUE(results[i].ok()) << results[i].status();
        if (results[i].ok()) {
          EXPECT_LE(results[i]->extent_length, length) << "append " << i << " landed past the freeze";
        }
      }
      EXPECT_EQ((*store)->Info(5)->length, length);
      EXPECT_EQ((co_await (*store)->Append(5, Payload(4096, 1))).status().code(), StatusCode::kFailedPrecondition);
      EXPECT_EQ((co_await (*store)->Freeze(5))->length, length) << "freezing twice";
      EXPECT_EQ((co_await (*store)->Freeze(99)).status().code(), StatusCode::kNotFound);
      EXPECT_TRUE((co_await (*store)->Seal(5, length)).ok());
      auto sealed = co_await (*store)->Freeze(5);
      EXPECT_TRUE(sealed.ok() && sealed->sealed && sealed->length == length);
      // Extent 6 is frozen and never sealed (the sealer died).
      EXPECT_TRUE((co_await (*store)->Append(6, Payload(4096, 2))).ok());
      EXPECT_TRUE((co_await (*store)->Freeze(6)).ok());
      EXPECT_EQ((co_await (*store)->Append(6, Payload(4096, 3))).status().code(), StatusCode::kFailedPrecondition);
      // A seal at a length that is no record boundary fails, and leaves it frozen.
      EXPECT_EQ((co_await (*store)->Seal(6, (*store)->Info(6)->length - 1)).code(), StatusCode::kInvalidArgument);
      EXPECT_EQ((co_await (*store)->Append(6, Payload(4096, 3))).status().code(), StatusCode::kFailedPrecondition);
      co_await (*store)->Close();
    }
    // A record no extent can hold is refused as such, not as a full extent (which a writer
    // would answer by moving to another extent, in vain).
    ExtentStoreOptions small;
    small.extent_bytes_max = 1 << 20;
    auto store = co_await ExtentStore::Open(env, directory_, small);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) co_return;
    EXPECT_EQ((co_await (*store)->Append(6, Payload(1 << 20, 4))).status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) co_return;
    EXPECT_TRUE((co_await (*store)->Append(6, Payload(4096, 4))).ok()) << "open again after a restart";
    EXPECT_EQ((co_await (*store)->Append(5, Payload(4096, 5))).status().code(), StatusCode::kFailedPrecondition);
    co_await (*store)->Close();
  });
}

// Batches larger than the disk takes in one request go out as several writes, all durable
// before any record of the batch is acknowledged; every record reads back, before and after a
// reopen. (A split write would be handed by io_uring to a worker that serialises the file.)
TEST_F(ExtentStoreTest, LargeBatchesAreCutIntoWritesTheDiskTakesWhole) {
  RunOnLoop([&](Env& env) -> Task<void> {
    const DeviceWriteLimits limits = env.GetDeviceWriteLimits(temporary_.path());
    Counter& writes = DefaultMetrics().GetCounter("cerulean_storage_commit_writes_total", "");
    const uint64_t writes_before = writes.value();
    std::vector<std::tuple<AppendResult, size_t, uint8_t>> records;  // record, bytes, payload seed
    uint64_t bytes_appended = 0;
    {
      auto store = co_await ExtentStore::Open(env, directory_, {});
      EXPECT_TRUE(store.ok()) << store.status();
      if (!store.ok()) co_return;
      EXPECT_TRUE((co_await (*store)->Create(11)).ok());
      std::vector<Task<Result<AppendResult>>> appends;
      std::vector<size_t> sizes;
      for (int i = 0; i < 24; i++) {
        sizes.push_back(i % 3 == 0 ? (1 << 20) : i % 3 == 1 ? (3 << 20) + 4321 : (5 << 20) + 17);
        bytes_appended += sizes.back();
        appends.push_back((*store)->Append(11, Payload(sizes.back(), static_cast<uint8_t>(i))));
      }
      size_t i = 0;
      for (auto& result : co_await WhenAll(std::move(appends))) {
        EXPECT_TRUE(result.ok()) << result.status();
        if (result.ok()) records.push_back({*result, sizes[i], static_cast<uint8_t>(i)});
        i++;
      }
      co_await (*store)->Close();
    }
    // No write is over the request size, so there are at least this many.
    EXPECT_GE(writes.value() - writes_before, bytes_appended / limits.request_bytes_max)
        << "request_bytes_max=" << limits.request_bytes_max;
    auto store = co_await ExtentStore::Open(env, directory_, {});
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) co_return;
    for (const auto& [record, bytes, seed] : records) {
      auto read = co_await (*store)->Read(11, record.record_offset, 0, bytes);
      EXPECT_TRUE(read.ok()) << read.status();
      if (!read.ok()) continue;
      PooledBuffer expected = Payload(bytes, seed);
      EXPECT_EQ(std::memcmp(read->bytes().data(), expected.data(), bytes), 0) << "record at " << record.record_offset;
    }
    co_await (*store)->Close();
  });
}

// A read hands back the CRC of its bytes when the verified checksums give it (a whole record, a
// range on sub-block boundaries, a small cached record), and only then; it is always right.
TEST_F(ExtentStoreTest, ReadsCarryTheCrcOfTheirBytes) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto store = co_await ExtentStore::Open(env, directory_, {});
    EXPECT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((co_await (*store)->Create(7)).ok());
    const size_t big_bytes = 5 * kSubBlockBytes + 1234;
    auto big = co_await (*store)->Append(7, Payload(big_bytes, 1));
    auto small = co_await (*store)->Append(7, Payload(3000, 2));
    EXPECT_TRUE(big.ok() && small.ok());
    struct Case {
      uint64_t record_offset, offset, length;
    };
    // From the verified sub-blocks' CRCs, with only the partial sub-blocks at the ends computed.
    const Case cases[] = {
        {big->record_offset, 0, big_bytes},                                 // whole record
        {big->record_offset, kSubBlockBytes, 2 * kSubBlockBytes},           // aligned sub-blocks
        {big->record_offset, 4 * kSubBlockBytes, kSubBlockBytes + 1234},    // to the end
        {big->record_offset, 100, kSubBlockBytes},                          // unaligned start
        {big->record_offset, 0, kSubBlockBytes + 1},                        // unaligned end
        {big->record_offset, 100, 4 * kSubBlockBytes + 5000},               // both, whole ones between
        {big->record_offset, 3 * kSubBlockBytes + 7, 2 * kSubBlockBytes + 1227},  // to the ragged end
        {big->record_offset, 2 * kSubBlockBytes + 10, 20},                  // inside one sub-block
        {small->record_offset, 10, 100},                                    // small, a part
        {small->record_offset, 0, 3000},                                    // small, whole
        {small->record_offset, 0, 3000},                                    // again, from the cache
        {small->record_offset, 10, 100},                                    // a part, from the cache
    };
    for (const Case& c : cases) {
      auto read = co_await (*store)->Read(7, c.record_offset, c.offset, c.length);
      EXPECT_TRUE(read.ok()) << read.status();
      if (!read.ok()) continue;
      EXPECT_EQ(read->crc, Crc32c(read->bytes())) << c.offset << "+" << c.length;
    }
    co_await (*store)->Close();
  });
}


// With the payload cache on, a record read whole is kept and later reads of it, whole or in
// part, into the node's memory or into a landing, come from memory: the same bytes, the right
// CRC, re-verified (a flipped bit in the cached copy is DataLoss, never returned), never past a
// seal, and never from an earlier incarnation of the extent.
TEST_F(ExtentStoreTest, HotRecordsAreServedFromThePayloadCache) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto store = co_await OpenWithPayloadCache(env);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) co_return;
    MetricsRegistry& metrics = DefaultMetrics();
    Counter& hits = metrics.GetCounter("cerulean_storage_payload_cache_hits_total", "");
    EXPECT_TRUE((co_await (*store)->Create(3)).ok());
    const size_t sizes[] = {3000, 5 * kSubBlockBytes + 1234, 2 << 20};  // one sub-block, several, over the limit
    std::vector<AppendResult> records;
    for (size_t i = 0; i < 3; i++) {
      auto appended = co_await (*store)->Append(3, Payload(sizes[i], static_cast<uint8_t>(i)));
      EXPECT_TRUE(appended.ok()) << appended.status();
      records.push_back(*appended);
    }
    for (size_t i = 0; i < 3; i++) {
      PooledBuffer expected = Payload(sizes[i], static_cast<uint8_t>(i));
      const uint64_t before = hits.value();
      auto first = co_await (*store)->Read(3, records[i].record_offset, 0, sizes[i]);  // fills
      EXPECT_TRUE(first.ok()) << first.status();
      EXPECT_EQ(hits.value(), before);
      struct Range {
        uint64_t offset, length;
      };
      const Range ranges[] = {{0, sizes[i]}, {10, 100}, {sizes[i] / 3, sizes[i] / 2}, {sizes[i] - 7, 7}};
      for (const Range& range : ranges) {
        auto read = co_await (*store)->Read(3, records[i].record_offset, range.offset, range.length);
        EXPECT_TRUE(read.ok()) << read.status();
        if (!read.ok()) continue;
        EXPECT_EQ(read->crc, Crc32c(read->bytes()));
        EXPECT_EQ(std::memcmp(read->bytes().data(), expected.data() + range.offset, range.length), 0);
        PooledBuffer landing = PooledBuffer::Allocate(ReadLandingBytes(range.length));
        auto landed = co_await (*store)->Read(3, records[i].record_offset, range.offset, range.length, landing.span());
        EXPECT_TRUE(landed.ok()) << landed.status();
        if (!landed.ok()) continue;
        EXPECT_EQ(landed->crc, Crc32c(landed->bytes()));
        EXPECT_EQ(std::memcmp(landed->bytes().data(), expected.data() + range.offset, range.length), 0);
      }
      // The record over the size limit is read from the disk every time.
      EXPECT_EQ(hits.value() - before, i < 2 ? 8u : 0u) << sizes[i];
    }
    // A bit that flips in the cached copy is caught: the copy is dropped, counted as data loss,
    // and the read goes to the disk, whose bytes are good.
    Counter& data_loss = metrics.GetCounter("cerulean_storage_data_loss_total", "");
    for (size_t i = 0; i < 2; i++) {
      auto read = co_await (*store)->Read(3, records[i].record_offset, 0, sizes[i]);
      EXPECT_TRUE(read.ok() && read->cached != nullptr);
      if (!read.ok() || read->cached == nullptr) continue;
      std::byte* byte = const_cast<std::byte*>(read->cached->payload().data()) + sizes[i] / 2;
      *byte ^= std::byte{0x10};
      const uint64_t losses = data_loss.value();
      auto reread = co_await (*store)->Read(3, records[i].record_offset, 0, sizes[i]);
      EXPECT_TRUE(reread.ok()) << reread.status();
      EXPECT_EQ(data_loss.value(), losses + 1);
      PooledBuffer expected = Payload(sizes[i], static_cast<uint8_t>(i));
      if (reread.ok()) {
        EXPECT_NE(reread->cached, read->cached);  // a fresh copy from the disk
        EXPECT_EQ(std::memcmp(reread->bytes().data(), expected.data(), sizes[i]), 0);
      }
    }
    // A seal that cuts the cached records off: they are not served.
    EXPECT_TRUE((co_await (*store)->Seal(3, records[1].record_offset)).ok());
    auto cut = co_await (*store)->Read(3, records[1].record_offset, 0, sizes[1]);
    EXPECT_FALSE(cut.ok());
    EXPECT_TRUE((co_await (*store)->Read(3, records[0].record_offset, 0, sizes[0])).ok());
    // The extent deleted and made again, with other bytes at the same place.
    EXPECT_TRUE((co_await (*store)->Delete(3)).ok());
    EXPECT_TRUE((co_await (*store)->Create(3)).ok());
    auto again = co_await (*store)->Append(3, Payload(sizes[0], 99));
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(again->record_offset, records[0].record_offset);
    auto fresh = co_await (*store)->Read(3, records[0].record_offset, 0, sizes[0]);
    EXPECT_TRUE(fresh.ok()) << fresh.status();
    PooledBuffer expected = Payload(sizes[0], 99);
    if (fresh.ok()) {
      EXPECT_EQ(std::memcmp(fresh->bytes().data(), expected.data(), sizes[0]), 0);
    }
    co_await (*store)->Close();
  });
}

// A whole record read for a same-host client lands in the cache's memory and is copied into the
// client's: the next read, by anyone, comes from memory. A read of part of a record lands in the
// client's memory straight from the disk and keeps nothing.
TEST_F(ExtentStoreTest, ASameHostReadOfAWholeRecordFillsThePayloadCache) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto store = co_await OpenWithPayloadCache(env);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) co_return;
    Counter& hits = DefaultMetrics().GetCounter("cerulean_storage_payload_cache_hits_total", "");
    EXPECT_TRUE((co_await (*store)->Create(4)).ok());
    const size_t size = 3 * kSubBlockBytes + 100;
    PooledBuffer expected = Payload(size, 7);
    auto first = co_await (*store)->Append(4, Payload(size, 7));
    auto second = co_await (*store)->Append(4, Payload(size, 7));
    EXPECT_TRUE(first.ok() && second.ok());
    if (!first.ok() || !second.ok()) co_return;
    PooledBuffer landing = PooledBuffer::Allocate(ReadLandingBytes(size));
    const uint64_t before = hits.value();
    auto partial = co_await (*store)->Read(4, second->record_offset, kSubBlockBytes, 1000, landing.span());
    EXPECT_TRUE(partial.ok()) << partial.status();
    if (partial.ok()) {
      EXPECT_EQ(std::memcmp(partial->bytes().data(), expected.data() + kSubBlockBytes, 1000), 0);
    }
    auto landed = co_await (*store)->Read(4, first->record_offset, 0, size, landing.span());
    EXPECT_TRUE(landed.ok()) << landed.status();
    if (!landed.ok()) co_return;
    EXPECT_EQ(landed->crc, Crc32c(landed->bytes()));
    EXPECT_EQ(std::memcmp(landed->bytes().data(), expected.data(), size), 0);
    EXPECT_EQ(hits.value(), before);
    std::memset(landing.data(), 0, landing.size());  // the client reuses its memory
    auto again = co_await (*store)->Read(4, first->record_offset, 0, size);
    EXPECT_TRUE(again.ok() && again->cached != nullptr);
    if (again.ok()) {
      EXPECT_EQ(std::memcmp(again->bytes().data(), expected.data(), size), 0);
    }
    EXPECT_EQ(hits.value(), before + 1);
    auto other = co_await (*store)->Read(4, second->record_offset, 0, size);  // the partial read kept nothing
    EXPECT_TRUE(other.ok());
    EXPECT_EQ(hits.value(), before + 1);
    co_await (*store)->Close();
  });
}

}  // namespace
}  // namespace cerulean::storage
