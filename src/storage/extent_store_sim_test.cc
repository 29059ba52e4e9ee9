// The extent store on simulated disks: torn writes at every byte, bit flips, crashes in the
// middle of group commits, full disks. Deterministic: a failure prints its seed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "base/crc32c.h"
#include "runtime/sim/sim_disk.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_test_support.h"
#include "runtime/sim/sim_world.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/when_all.h"
#include "storage/extent_store.h"

namespace cerulean::storage {
namespace {

constexpr char kDirectory[] = "/data";

PooledBuffer Payload(size_t bytes, uint64_t seed) {
  PooledBuffer buffer = PooledBuffer::Allocate(bytes);
  for (size_t i = 0; i < bytes; i++) buffer.data()[i] = std::byte((i * 131 + seed * 7 + (i >> 9)) & 0xFF);
  return buffer;
}

// Runs `body(env)` to completion on a node of `world`, failing the test if it does not finish.
template <typename Body>
void RunSim(SimWorld& world, SimEnv& env, Body body) {
  auto done = RunToCompletion(world, env, [](SimEnv& e, Body b) -> Task<bool> {
    co_await b(e);
    co_return true;
  }(env, std::move(body)), std::chrono::hours(1));
  ASSERT_TRUE(done.has_value()) << "simulation did not finish; " << SimSeedMessage(world.seed());
  world.RunUntilIdle(std::chrono::minutes(10));
}

Task<std::unique_ptr<ExtentStore>> OpenStore(Env& env, ExtentStoreOptions options = {}) {
  auto store = co_await ExtentStore::Open(env, kDirectory, options);
  CHECK(store.ok()) << store.status();
  co_return std::move(*store);
}

TEST(ExtentStoreSimTest, AppendThenReadWholeAndRanges) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  RunSim(world, env, [](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e);
    EXPECT_TRUE((co_await store->Create(1)).ok());
    const size_t sizes[] = {0, 1, 4096, 70'000, 200 * 1024 + 3};
    std::vector<AppendResult> appended;
    for (size_t i = 0; i < std::size(sizes); i++) {
      auto result = co_await store->Append(1, Payload(sizes[i], i));
      EXPECT_TRUE(result.ok()) << result.status();
      appended.push_back(*result);
    }
    EXPECT_EQ(appended[0].record_offset, kFirstRecordOffset);
    for (size_t i = 0; i < std::size(sizes); i++) {
      PooledBuffer expected = Payload(sizes[i], i);
      auto whole = co_await store->Read(1, appended[i].record_offset, 0, sizes[i]);
      EXPECT_TRUE(whole.ok()) << whole.status();
      if (sizes[i] > 0) {
        EXPECT_EQ(std::memcmp(whole->bytes().data(), expected.data(), sizes[i]), 0);
      }
      EXPECT_EQ(Crc32c(whole->bytes()), appended[i].payload_crc);
      if (sizes[i] < 100) continue;
      // Ranges that start in the first, a middle and the last sub-block.
      for (uint64_t from : {uint64_t{1}, uint64_t{sizes[i] / 2}, uint64_t{sizes[i] - 10}}) {
        const uint64_t length = std::min<uint64_t>(5000, sizes[i] - from);
        auto part = co_await store->Read(1, appended[i].record_offset, from, length);
        EXPECT_TRUE(part.ok()) << part.status();
        EXPECT_EQ(std::memcmp(part->bytes().data(), expected.data() + from, length), 0) << from;
      }
    }
    // Out of range: past the payload, and a record offset that is not committed.
    EXPECT_EQ((co_await store->Read(1, appended[1].record_offset, 0, 2)).status().code(), StatusCode::kOutOfRange);
    EXPECT_EQ((co_await store->Read(1, 1 << 30, 0, 1)).status().code(), StatusCode::kOutOfRange);
    EXPECT_EQ((co_await store->Read(9, kFirstRecordOffset, 0, 1)).status().code(), StatusCode::kNotFound);
    co_await store->Close();
  });
}

TEST(ExtentStoreSimTest, ConcurrentAppendsAreGroupCommitted) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  RunSim(world, env, [](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e);
    EXPECT_TRUE((co_await store->Create(1)).ok());
    Histogram& batches = DefaultMetrics().GetHistogram("cerulean_storage_commit_batch_records", "");
    const uint64_t batches_before = batches.count();
    std::vector<Task<Result<AppendResult>>> appends;
    for (int i = 0; i < 64; i++) appends.push_back(store->Append(1, Payload(4096, i)));
    auto results = co_await WhenAll(std::move(appends));
    uint64_t expected_offset = kFirstRecordOffset;
    for (auto& result : results) {  // offsets follow arrival order, back to back
      EXPECT_TRUE(result.ok());
      EXPECT_EQ(result->record_offset, expected_offset);
      expected_offset += RecordBytes(4096);
    }
    // 64 appends, far fewer write+sync rounds.
    EXPECT_LE(batches.count() - batches_before, 4u);
    co_await store->Close();
  });
}

// Writes a record raw at the end of a synced extent, cut at `keep` bytes, then reopens.
TEST(ExtentStoreSimTest, TornRecordCutAtEveryBytePositionIsDetectedOnRecovery) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  RunSim(world, env, [](Env& e) -> Task<void> {
    // Two good records, then a third whose bytes we keep to replay torn.
    auto store = co_await OpenStore(e);
    EXPECT_TRUE((co_await store->Create(1)).ok());
    auto first = co_await store->Append(1, Payload(100, 1));
    auto second = co_await store->Append(1, Payload(100, 2));
    auto third = co_await store->Append(1, Payload(300, 3));
    EXPECT_TRUE(first.ok() && second.ok() && third.ok());
    co_await store->Close();
    store.reset();
    const std::string path = std::string(kDirectory) + "/extents/0000000000000001.ext";
    auto file = co_await e.OpenFile(path, {});
    std::vector<std::byte> whole(third->extent_length);
    auto got = co_await (*file)->Read(0, whole);
    EXPECT_EQ(*got, whole.size());
    const uint64_t torn_at = third->record_offset;
    // Every byte of the header block and payload; the zero padding cannot change validity.
    for (uint64_t keep = 0; keep < kBlockBytes + 300; keep++) {
      EXPECT_TRUE((co_await (*file)->Truncate(torn_at + keep)).ok());
      if (keep > 0) {
        std::vector<std::byte> tail(whole.begin() + torn_at, whole.begin() + torn_at + keep);
        iovec piece{tail.data(), tail.size()};
        EXPECT_TRUE((co_await (*file)->Write(torn_at, {&piece, 1})).ok());
      }
      auto reopened = co_await OpenStore(e);
      auto info = reopened->Info(1);
      EXPECT_EQ(info->length, torn_at) << "torn at byte " << keep;
      auto read = co_await reopened->Read(1, second->record_offset, 0, 100);
      EXPECT_TRUE(read.ok()) << read.status();
      co_await reopened->Close();
    }
    // And whole, it is taken back.
    iovec all{whole.data() + torn_at, whole.size() - torn_at};
    EXPECT_TRUE((co_await (*file)->Write(torn_at, {&all, 1})).ok());
    auto reopened = co_await OpenStore(e);
    EXPECT_EQ(reopened->Info(1)->length, third->extent_length);
    co_await reopened->Close();
  });
}

TEST(ExtentStoreSimTest, BitFlipsInHeaderOrPayloadAreDataLossNamingExtentAndOffset) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  SimDisk& disk = world.disk("n");
  RunSim(world, env, [&disk](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e);
    EXPECT_TRUE((co_await store->Create(5)).ok());
    auto record = co_await store->Append(5, Payload(150'000, 4));
    Counter& data_loss = DefaultMetrics().GetCounter("cerulean_storage_data_loss_total", "");
    const std::string path = std::string(kDirectory) + "/extents/0000000000000005.ext";
    // A flip in the header, in sub-block 0 and in sub-block 2.
    const uint64_t places[] = {record->record_offset + 20, record->record_offset + kBlockBytes + 10,
                               record->record_offset + kBlockBytes + 2 * kSubBlockBytes + 99};
    for (uint64_t place : places) {
      EXPECT_TRUE(disk.FlipBit(path, place, 3).ok());
      const uint64_t before = data_loss.value();
      auto read = co_await store->Read(5, record->record_offset, 0, 150'000);
      EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
      EXPECT_NE(read.status().message().find("extent 0000000000000005"), std::string::npos) << read.status();
      EXPECT_EQ(data_loss.value(), before + 1);
      EXPECT_TRUE(disk.FlipBit(path, place, 3).ok());  // flip back
      auto healed = co_await store->Read(5, record->record_offset, 0, 150'000);
      EXPECT_TRUE(healed.ok()) << healed.status();
    }
    // A ranged read that does not touch the corrupted sub-block still succeeds.
    EXPECT_TRUE(disk.FlipBit(path, places[2], 1).ok());
    auto other = co_await store->Read(5, record->record_offset, 0, 60'000);
    EXPECT_TRUE(other.ok()) << other.status();
    auto bad = co_await store->Read(5, record->record_offset, 140'000, 100);
    EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
    co_await store->Close();
  });
}

// Small records are read through the record cache: the payload alone, checked against the CRC
// kept from the append. A flipped payload bit is still DataLoss. A flipped header bit cannot
// change what such a read returns (the bytes still match the CRC taken when they were written);
// it is found by the first read that needs the header, e.g. after a restart.
TEST(ExtentStoreSimTest, SmallRecordsReadThroughTheCacheAreStillVerified) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  SimDisk& disk = world.disk("n");
  RunSim(world, env, [&disk](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e);
    EXPECT_TRUE((co_await store->Create(6)).ok());
    auto empty = co_await store->Append(6, Payload(0, 0));
    auto record = co_await store->Append(6, Payload(4096, 9));
    auto sixty_four = co_await store->Append(6, Payload(kSubBlockBytes, 3));
    const std::string path = std::string(kDirectory) + "/extents/0000000000000006.ext";
    PooledBuffer expected = Payload(4096, 9);
    auto whole = co_await store->Read(6, record->record_offset, 0, 4096);
    EXPECT_TRUE(whole.ok()) << whole.status();
    EXPECT_EQ(std::memcmp(whole->bytes().data(), expected.data(), 4096), 0);
    auto part = co_await store->Read(6, record->record_offset, 100, 50);
    EXPECT_TRUE(part.ok()) << part.status();
    EXPECT_EQ(std::memcmp(part->bytes().data(), expected.data() + 100, 50), 0);
    EXPECT_EQ((co_await store->Read(6, record->record_offset, 4000, 97)).status().code(), StatusCode::kOutOfRange);
    EXPECT_EQ((co_await store->Read(6, empty->record_offset, 0, 0))->length, 0u);
    EXPECT_TRUE((co_await store->Read(6, sixty_four->record_offset, 1000, kSubBlockBytes - 1000)).ok());

    const uint64_t payload_place = record->record_offset + kBlockBytes + 777;
    EXPECT_TRUE(disk.FlipBit(path, payload_place, 5).ok());
    auto flipped = co_await store->Read(6, record->record_offset, 0, 4096);
    EXPECT_EQ(flipped.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(flipped.status().message().find(fmt::format("extent 0000000000000006 offset {}",
                                                          record->record_offset + kBlockBytes)),
              std::string::npos) << flipped.status();
    EXPECT_TRUE(disk.FlipBit(path, payload_place, 5).ok());

    const uint64_t header_place = record->record_offset + 40;
    EXPECT_TRUE(disk.FlipBit(path, header_place, 2).ok());
    auto cached = co_await store->Read(6, record->record_offset, 0, 4096);
    EXPECT_TRUE(cached.ok()) << cached.status();
    EXPECT_EQ(std::memcmp(cached->bytes().data(), expected.data(), 4096), 0);
    co_await store->Close();
    auto reopened = co_await OpenStore(e);
    // Recovery stops at the damaged header (a single node has no other copy)...
    EXPECT_EQ(reopened->Info(6)->length, record->record_offset);
    co_await reopened->Close();
  });
}

// Crashes in the middle of a stream of concurrent appends: every acknowledged append survives
// with identical bytes; recovery never invents a record.
TEST(ExtentStoreSimTest, AcknowledgedAppendsSurviveCrashesAtAnyMoment) {
  for (uint64_t seed : SimSeeds(40)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    SimEnv& env = world.AddNode("n");
    SimDisk& disk = world.disk("n");
    std::map<uint64_t, std::pair<uint64_t, size_t>> acknowledged;  // offset -> (payload seed, size)
    RunSim(world, env, [&](Env& e) -> Task<void> {
      ExtentStoreOptions options{.tail_hint_interval_bytes = 64 * 1024};
      for (int life = 0; life < 3; life++) {
        auto store = co_await OpenStore(e, options);
        if (life == 0) {
          EXPECT_TRUE((co_await store->Create(1)).ok());
        }
        // Everything acknowledged before is still there, byte for byte.
        for (const auto& [offset, what] : acknowledged) {
          auto read = co_await store->Read(1, offset, 0, what.second);
          EXPECT_TRUE(read.ok()) << "life " << life << " offset " << offset << ": " << read.status();
          if (!read.ok()) continue;
          PooledBuffer expected = Payload(what.second, what.first);
          EXPECT_EQ(std::memcmp(read->bytes().data(), expected.data(), what.second), 0);
        }
        // Concurrent appends; the power fails at a random moment among them.
        TaskGroup writers(e);
        for (int w = 0; w < 8; w++) {
          writers.Spawn([](ExtentStore& s, Env& env, int writer, int life,
                           std::map<uint64_t, std::pair<uint64_t, size_t>>* acked) -> Task<void> {
            for (int i = 0; i < 6; i++) {
              const uint64_t payload_seed = life * 1000 + writer * 10 + i;
              const size_t bytes = 1 + (env.Random() % 20'000);
              auto result = co_await s.Append(1, Payload(bytes, payload_seed));
              if (!result.ok()) co_return;  // the crash
              (*acked)[result->record_offset] = {payload_seed, bytes};
            }
          }(*store, e, w, life, &acknowledged));
        }
        Spawn(e, [](Env& env, SimDisk& d) -> Task<void> {
          Status slept = co_await Sleep(env, std::chrono::microseconds(env.Random() % 3000));
          EXPECT_TRUE(slept.ok());
          d.Crash();
        }(e, disk));
        co_await writers.Join();
        co_await store->Close();
      }
      auto final_store = co_await OpenStore(e, options);
      EXPECT_GE(final_store->Info(1)->length,
                acknowledged.empty() ? kFirstRecordOffset : acknowledged.rbegin()->first);
      co_await final_store->Close();
    });
    if (::testing::Test::HasFailure()) break;
  }
}

// Several batches are written at once; when one fails, every batch after it fails too, even if
// its own write went through: the acknowledged records stay a prefix of the extent, with no hole.
TEST(ExtentStoreSimTest, AFailedBatchFailsEveryBatchAfterIt) {
  for (uint64_t seed : SimSeeds(30)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    SimEnv& env = world.AddNode("n");
    SimDisk& disk = world.disk("n");
    RunSim(world, env, [&](Env& e) -> Task<void> {
      auto store = co_await OpenStore(e);
      EXPECT_TRUE((co_await store->Create(1)).ok());
      std::map<uint64_t, std::pair<uint64_t, size_t>> acknowledged;  // offset -> (payload seed, size)
      size_t failed = 0;
      disk.set_failure_probability(0.05);
      TaskGroup writers(e);
      for (int w = 0; w < 16; w++) {
        writers.Spawn([](ExtentStore& s, Env& env, int writer, size_t* failures,
                         std::map<uint64_t, std::pair<uint64_t, size_t>>* acked) -> Task<void> {
          for (int i = 0; i < 20; i++) {
            const uint64_t payload_seed = writer * 100 + i;
            const size_t bytes = 1 + (env.Random() % 70'000);
            // Staggered, so that appends arrive while batches are on the disk.
            EXPECT_TRUE((co_await Sleep(env, std::chrono::microseconds(env.Random() % 400))).ok());
            auto result = co_await s.Append(1, Payload(bytes, payload_seed));
            if (!result.ok()) {
              EXPECT_EQ(result.status().code(), StatusCode::kUnavailable) << result.status();
              (*failures)++;
              co_return;
            }
            (*acked)[result->record_offset] = {payload_seed, bytes};
          }
        }(*store, e, w, &failed, &acknowledged));
      }
      co_await writers.Join();
      disk.set_failure_probability(0);
      // The acknowledged records are back to back from the start, and the extent ends with them.
      uint64_t end = kFirstRecordOffset;
      for (const auto& [offset, what] : acknowledged) {
        EXPECT_EQ(offset, end);
        end = offset + RecordBytes(what.second);
      }
      EXPECT_EQ(store->Info(1)->length, end);
      co_await store->Close();
      auto reopened = co_await OpenStore(e);
      // The failed batch's bytes may be on the disk (a write whose sync failed) and stay there
      // when the truncation that cuts them fails too: unacknowledged records, as after a crash.
      EXPECT_GE(reopened->Info(1)->length, end) << failed << " appends failed";
      for (const auto& [offset, what] : acknowledged) {
        auto read = co_await reopened->Read(1, offset, 0, what.second);
        EXPECT_TRUE(read.ok()) << offset << ": " << read.status();
        if (!read.ok()) continue;
        PooledBuffer expected = Payload(what.second, what.first);
        EXPECT_EQ(std::memcmp(read->bytes().data(), expected.data(), what.second), 0);
      }
      co_await reopened->Close();
    });
    if (::testing::Test::HasFailure()) break;
  }
}

// Seal, Delete and copies of one extent overlapping each other and appends and reads: none of
// them may touch a dropped extent, and a read cut short by a seal is OutOfRange, not data loss.
TEST(ExtentStoreSimTest, OverlappingSealsDeletesAppendsAndReadsOfOneExtent) {
  for (uint64_t seed : SimSeeds(20)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    SimEnv& env = world.AddNode("n");
    RunSim(world, env, [&](Env& e) -> Task<void> {
      auto store = co_await OpenStore(e);
      Counter& data_loss = DefaultMetrics().GetCounter("cerulean_storage_data_loss_total", "");
      const uint64_t data_loss_before = data_loss.value();
      // Two deletes at once, and a replica append waiting for a record that never comes.
      EXPECT_TRUE((co_await store->Create(1)).ok());
      std::vector<Task<Status>> deletes;
      deletes.push_back(store->Delete(1));
      deletes.push_back(store->Delete(1));
      auto waiting = [](ExtentStore& s) -> Task<Status> {
        co_return (co_await s.Append(1, Payload(10, 1), {.expected_offset = kFirstRecordOffset + 8 * kBlockBytes})).status();
      }(*store);
      std::vector<Task<Status>> all;
      all.push_back(std::move(waiting));
      for (auto& d : deletes) all.push_back(std::move(d));
      auto outcomes = co_await WhenAll(std::move(all));
      EXPECT_FALSE(outcomes[0].ok());  // the waiting append gives up
      EXPECT_TRUE(outcomes[1].ok() != outcomes[2].ok()) << outcomes[1] << " / " << outcomes[2];
      EXPECT_FALSE(store->Info(1).ok());

      // A seal racing a delete, and reads racing a seal that cuts their records.
      EXPECT_TRUE((co_await store->Create(2)).ok());
      std::vector<AppendResult> records;
      for (int i = 0; i < 6; i++) records.push_back(*(co_await store->Append(2, Payload(i % 2 ? 5000 : 100'000, i))));
      const uint64_t cut_at = records[2].record_offset;
      std::vector<Task<Status>> racing;
      for (int i = 0; i < 6; i++) {
        racing.push_back([](ExtentStore& s, AppendResult r, size_t bytes) -> Task<Status> {
          co_return (co_await s.Read(2, r.record_offset, 0, bytes)).status();
        }(*store, records[i], i % 2 ? 5000 : 100'000));
      }
      racing.push_back(store->Seal(2, cut_at));
      racing.push_back(store->Seal(2, cut_at));
      auto raced = co_await WhenAll(std::move(racing));
      for (int i = 0; i < 6; i++) {
        if (i < 2) {
          EXPECT_TRUE(raced[i].ok()) << raced[i];
        } else {
          EXPECT_TRUE(raced[i].ok() || raced[i].code() == StatusCode::kOutOfRange) << raced[i];
        }
      }
      EXPECT_TRUE(raced[6].ok() || raced[6].code() == StatusCode::kAborted) << raced[6];
      EXPECT_TRUE(raced[7].ok() || raced[7].code() == StatusCode::kAborted) << raced[7];
      EXPECT_TRUE((co_await store->Seal(2, cut_at)).ok());  // a retry finishes it
      EXPECT_EQ(store->Info(2)->length, cut_at);
      EXPECT_EQ((co_await store->Read(2, records[3].record_offset, 0, 10)).status().code(), StatusCode::kOutOfRange);
      std::vector<Task<Status>> seal_and_delete;
      seal_and_delete.push_back(store->Delete(2));
      seal_and_delete.push_back(store->Seal(2, cut_at));
      auto finished = co_await WhenAll(std::move(seal_and_delete));
      EXPECT_TRUE(finished[0].ok()) << finished[0];
      EXPECT_EQ(data_loss.value(), data_loss_before);
      co_await store->Close();
    });
    if (::testing::Test::HasFailure()) break;
  }
}

TEST(ExtentStoreSimTest, RecoveryScansOnlyFromTheTailHint) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  RunSim(world, env, [](Env& e) -> Task<void> {
    ExtentStoreOptions options{.tail_hint_interval_bytes = 10 * RecordBytes(4096)};
    auto store = co_await OpenStore(e, options);
    EXPECT_TRUE((co_await store->Create(1)).ok());
    EXPECT_TRUE((co_await store->Create(2)).ok());
    for (int i = 0; i < 200; i++) EXPECT_TRUE((co_await store->Append(1, Payload(4096, i))).ok());
    for (int i = 0; i < 50; i++) EXPECT_TRUE((co_await store->Append(2, Payload(4096, i))).ok());
    EXPECT_TRUE((co_await store->Seal(2, store->Info(2)->length)).ok());
    co_await store->Close();
    auto reopened = co_await OpenStore(e, options);
    // 250 records stored; only the tail of the open extent since its last hint was read.
    EXPECT_LE(reopened->recovery_records_scanned(), 20u);
    EXPECT_EQ(reopened->Info(1)->length, kFirstRecordOffset + 200 * RecordBytes(4096));
    EXPECT_TRUE(reopened->Info(2)->sealed);
    co_await reopened->Close();
  });
}

TEST(ExtentStoreSimTest, SealTruncatesAndIsFinal) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  RunSim(world, env, [](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e);
    EXPECT_TRUE((co_await store->Create(3)).ok());
    std::vector<AppendResult> records;
    for (int i = 0; i < 4; i++) records.push_back(*(co_await store->Append(3, Payload(5000, i))));
    // Not a record boundary: refused, nothing changes.
    EXPECT_EQ((co_await store->Seal(3, records[1].extent_length + 4096)).code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE((co_await store->Append(3, Payload(10, 9))).ok());
    // Seal after the second record: the rest is dropped.
    EXPECT_TRUE((co_await store->Seal(3, records[1].extent_length)).ok());
    EXPECT_TRUE((co_await store->Seal(3, records[1].extent_length)).ok());  // idempotent
    EXPECT_EQ((co_await store->Seal(3, records[0].extent_length)).code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ((co_await store->Append(3, Payload(10, 9))).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ((co_await store->Read(3, records[2].record_offset, 0, 1)).status().code(), StatusCode::kOutOfRange);
    co_await store->Close();
    auto reopened = co_await OpenStore(e);
    EXPECT_TRUE(reopened->Info(3)->sealed);
    EXPECT_EQ(reopened->Info(3)->length, records[1].extent_length);
    EXPECT_TRUE((co_await reopened->Read(3, records[1].record_offset, 0, 5000)).ok());
    EXPECT_TRUE((co_await reopened->Delete(3)).ok());
    EXPECT_EQ(reopened->Info(3).status().code(), StatusCode::kNotFound);
    co_await reopened->Close();
  });
}

TEST(ExtentStoreSimTest, FullDiskFailsAppendsCleanlyAndKeepsData) {
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  world.disk("n").set_capacity_bytes(8 << 20);
  RunSim(world, env, [](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e, {.extent_bytes_max = 64 << 20, .reserve_bytes = 1 << 20,
                                        .preallocate_bytes = 1 << 20});
    EXPECT_TRUE((co_await store->Create(1)).ok());
    std::vector<AppendResult> stored;
    Status last;
    for (int i = 0; i < 100; i++) {
      auto result = co_await store->Append(1, Payload(256 * 1024, i));
      if (!result.ok()) {
        last = result.status();
        break;
      }
      stored.push_back(*result);
    }
    EXPECT_EQ(last.code(), StatusCode::kResourceExhausted) << last;
    EXPECT_GT(stored.size(), 10u);
    for (size_t i = 0; i < stored.size(); i++) {  // nothing already stored is harmed
      auto read = co_await store->Read(1, stored[i].record_offset, 0, 256 * 1024);
      EXPECT_TRUE(read.ok()) << read.status();
    }
    // Freeing space makes appends work again.
    EXPECT_TRUE((co_await store->Seal(1, stored[stored.size() / 2].extent_length)).ok());
    EXPECT_TRUE((co_await store->Create(3)).ok());
    EXPECT_TRUE((co_await store->Append(3, Payload(1000, 1))).ok());
    co_await store->Close();
  });
}

TEST(ExtentStoreSimTest, ADiskFullerThanTheStoreKnowsStillLetsItSealAndCarryOn) {
  // Something else fills the disk: the store's budget allows appends the file system refuses, and
  // the allocations it makes ahead of its appends fail too. Neither may keep the extent busy (a
  // retried allocation or hint would never let the seal in).
  SimWorld world(SimSeed());
  SIM_SCOPED_SEED(world.seed());
  SimEnv& env = world.AddNode("n");
  world.disk("n").set_capacity_bytes(8 << 20);
  RunSim(world, env, [](Env& e) -> Task<void> {
    auto store = co_await OpenStore(e, {.extent_bytes_max = 64 << 20, .capacity_bytes = 1ull << 30,
                                        .preallocate_bytes = 2 << 20, .tail_hint_interval_bytes = 512 * 1024});
    EXPECT_TRUE((co_await store->Create(1)).ok());
    std::vector<AppendResult> stored;
    Status last;
    for (int i = 0; i < 100; i++) {
      auto result = co_await store->Append(1, Payload(256 * 1024, i));
      if (!result.ok()) {
        last = result.status();
        break;
      }
      stored.push_back(*result);
    }
    EXPECT_EQ(last.code(), StatusCode::kResourceExhausted) << last;
    EXPECT_GT(stored.size(), 5u);
    for (const AppendResult& record : stored) {
      auto read = co_await store->Read(1, record.record_offset, 0, 256 * 1024);
      EXPECT_TRUE(read.ok()) << read.status();
    }
    EXPECT_TRUE((co_await store->Seal(1, stored.back().extent_length)).ok());
    EXPECT_TRUE((co_await store->Delete(1)).ok());
    EXPECT_TRUE((co_await store->Create(2)).ok());
    EXPECT_TRUE((co_await store->Append(2, Payload(1000, 1))).ok());
    co_await store->Close();
  });
}

}  // namespace
}  // namespace cerulean::storage
