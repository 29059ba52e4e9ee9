#include "storage/device_writes.h"

#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cerulean::storage {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kHuge = 2 << 20;

// Pieces are never dereferenced by the planner: fake addresses will do.
iovec Piece(uintptr_t address, size_t length) { return {reinterpret_cast<void*>(address), length}; }

// Run sizes as pooled buffers have them: a huge page from 1 MiB on.
std::vector<size_t> PooledRuns(std::span<const iovec> data) {
  std::vector<size_t> runs;
  for (const iovec& piece : data) runs.push_back(piece.iov_len >= (1 << 20) ? kHuge : kPage);
  return runs;
}

// Plans `data` as the store does, a piece at a time.
void Plan(uint64_t offset, std::span<const iovec> data, std::span<const size_t> runs, DeviceWriteLimits limits,
          DeviceWritePlan& plan) {
  plan.Start(offset, limits);
  for (size_t i = 0; i < data.size(); i++) plan.Add(data[i].iov_base, data[i].iov_len, runs[i]);
}

size_t TotalBytes(std::span<const iovec> iovecs) {
  size_t total = 0;
  for (const iovec& part : iovecs) total += part.iov_len;
  return total;
}

// Every byte of `data` lands once, in order, at its offset; each write keeps to the limits
// (a write of one page may go over the segments: nothing smaller can be issued).
void ExpectWithinLimits(uint64_t offset, std::span<const iovec> data, std::span<const size_t> runs,
                        DeviceWriteLimits limits, const DeviceWritePlan& plan) {
  size_t piece = 0, into_piece = 0;
  uint64_t at = offset;
  for (const DeviceWrite& write : plan.writes()) {
    EXPECT_EQ(write.offset, at);
    ASSERT_GT(write.iovec_count, 0u);
    size_t bytes = 0, segments = 0;
    for (const iovec& part : plan.IovecsOf(write)) {
      ASSERT_LT(piece, data.size());
      EXPECT_EQ(static_cast<const std::byte*>(part.iov_base),
                static_cast<const std::byte*>(data[piece].iov_base) + into_piece);
      EXPECT_EQ(part.iov_len % kPage, 0u);
      segments += SegmentsOf(part.iov_base, part.iov_len, runs[piece]);
      bytes += part.iov_len;
      into_piece += part.iov_len;
      ASSERT_LE(into_piece, data[piece].iov_len);
      if (into_piece == data[piece].iov_len) {
        piece++;
        into_piece = 0;
      }
    }
    EXPECT_LE(bytes, limits.request_bytes_max);
    if (bytes > kPage) {
      EXPECT_LE(segments, limits.segments_max) << fmt::format("write at {}", write.offset);
    }
    at += bytes;
  }
  EXPECT_EQ(piece, data.size());
  EXPECT_EQ(at - offset, TotalBytes(data));
}

TEST(DeviceWritesTest, SegmentsCountPagesOrHugePages) {
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(0x10000), kPage, kPage), 1u);
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(0x10000), 64 << 10, kPage), 16u);
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(0x10800), kPage, kPage), 2u);  // straddles a page
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(kHuge), 1 << 20, kHuge), 1u);
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(kHuge + (1 << 20)), 2 << 20, kHuge), 2u);
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(kHuge), 8 << 20, kHuge), 4u);
  EXPECT_EQ(SegmentsOf(reinterpret_cast<void*>(kHuge), 8 << 20, kPage), 2048u);  // shared memory
}

TEST(DeviceWritesTest, OneMebibyteRecordsOnHugePagesFillFourMebibyteWrites) {
  // The bench's case on a virtio disk: a header block and a 1 MiB payload per record.
  std::vector<iovec> batch;
  for (int i = 0; i < 16; i++) {
    batch.push_back(Piece(0x7000'0000 + i * kPage, kPage));
    batch.push_back(Piece(0x4000'0000 + uintptr_t(i) * kHuge, 1 << 20));
  }
  const DeviceWriteLimits virtio{.request_bytes_max = 4 << 20, .segments_max = 254};
  DeviceWritePlan plan;
  Plan(8192, batch, PooledRuns(batch), virtio, plan);
  ExpectWithinLimits(8192, batch, PooledRuns(batch), virtio, plan);
  EXPECT_EQ(plan.writes().size(), 5u);  // 16 × (1 MiB + 4 KiB) in 4 MiB writes
  EXPECT_EQ(TotalBytes(plan.IovecsOf(plan.writes()[0])), 4u << 20);
}

TEST(DeviceWritesTest, SmallPagesAreCutBySegments) {
  // Pieces under 1 MiB are in 4 KiB pages, a segment each: 529 of them, 254 a write.
  std::vector<iovec> batch{Piece(0x7000'0000, kPage), Piece(0x10'0000'0000, 512 << 10)};
  for (int i = 0; i < 200; i++) {
    batch.push_back(Piece(0x7100'0000 + i * 2 * kPage, kPage));
    batch.push_back(Piece(0x7200'0000 + i * 2 * kPage, kPage));
  }
  const DeviceWriteLimits limits{.request_bytes_max = 4 << 20, .segments_max = 254};
  DeviceWritePlan plan;
  Plan(0, batch, PooledRuns(batch), limits, plan);
  ExpectWithinLimits(0, batch, PooledRuns(batch), limits, plan);
  EXPECT_EQ(plan.writes().size(), 3u);
  // An 8 MiB payload lent from shared memory (small pages): 2048 segments, in writes of 254.
  const std::vector<iovec> lent{Piece(0x7000'0000, kPage), Piece(0x20'0000'0000, 8 << 20)};
  const std::vector<size_t> runs{kPage, kPage};
  Plan(0, lent, runs, limits, plan);
  ExpectWithinLimits(0, lent, runs, limits, plan);
  EXPECT_EQ(plan.writes().size(), 9u);  // 2049 segments
}

TEST(DeviceWritesTest, ABatchWithinTheLimitsIsOneWrite) {
  std::vector<iovec> batch{Piece(0x7000'0000, kPage), Piece(0x7100'0000, 64 << 10)};
  DeviceWritePlan plan;
  Plan(4096, batch, PooledRuns(batch), {}, plan);
  ASSERT_EQ(plan.writes().size(), 1u);
  EXPECT_EQ(plan.writes()[0].iovec_count, 2u);
  Plan(0, {}, {}, {}, plan);  // reuse, and nothing to write
  EXPECT_TRUE(plan.writes().empty());
}

TEST(DeviceWritesTest, RandomBatchesKeepEveryByteInOrderWithinTheLimits) {
  std::mt19937_64 random(42);
  DeviceWritePlan plan;
  for (int round = 0; round < 2000; round++) {
    std::vector<iovec> batch;
    std::vector<size_t> runs;
    uintptr_t next = 0x1000'0000;
    const int pieces = 1 + random() % 40;
    for (int i = 0; i < pieces; i++) {
      const size_t pages = random() % 4 == 0 ? 1 + random() % 1024 : 1 + random() % 16;
      const size_t bytes = pages * kPage;
      // Pooled buffers: a page boundary below 1 MiB, a huge-page one (or its middle) above.
      next = bytes >= (1 << 20) ? (next + kHuge) / kHuge * kHuge + (random() % 2) * (1 << 20)
                                : next + (random() % 8) * kPage;
      batch.push_back(Piece(next, bytes));
      runs.push_back(bytes >= (1 << 20) && random() % 4 != 0 ? kHuge : kPage);  // some large ones lent
      next += bytes;
    }
    const DeviceWriteLimits limits{.request_bytes_max = (1 + random() % 2048) * kPage,
                                   .segments_max = 1 + random() % 300};
    const uint64_t offset = (random() % 1000) * kPage;
    Plan(offset, batch, runs, limits, plan);
    ExpectWithinLimits(offset, batch, runs, limits, plan);
    if (HasFatalFailure() || HasNonfatalFailure()) {
      FAIL() << fmt::format("round {}: {} pieces, limits {} bytes {} segments", round, batch.size(),
                            limits.request_bytes_max, limits.segments_max);
    }
  }
}

}  // namespace
}  // namespace cerulean::storage
