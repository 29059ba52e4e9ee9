#include "base/buffer_pool.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cerulean {
namespace {

uintptr_t Address(const PooledBuffer& buffer) { return reinterpret_cast<uintptr_t>(buffer.data()); }

// The "THPeligible" flag of the mapping holding `address`, from /proc/self/smaps; nothing when
// the kernel does not report it.
std::optional<bool> HugePageEligible(uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long start = 0, end = 0;  // a mapping's first line: "start-end perms ..."
    if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) == 2) {
      inside = start <= address && address < end;
      continue;
    }
    if (inside && line.starts_with("THPeligible:")) return line.find('1') != std::string::npos;
  }
  return std::nullopt;
}

bool TransparentHugePagesEnabled() {
  std::ifstream file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text;
  std::getline(file, text);
  return !text.empty() && text.find("[never]") == std::string::npos;
}

TEST(BufferPoolTest, SizesRoundUpToAlignedClasses) {
  for (size_t size : {size_t{1}, size_t{4096}, size_t{4097}, size_t{100000}, size_t{1} << 20, (size_t{1} << 20) + 1,
                      size_t{8} << 20}) {
    PooledBuffer buffer = PooledBuffer::Allocate(size);
    EXPECT_EQ(buffer.size(), size);
    EXPECT_GE(buffer.capacity(), size);
    EXPECT_EQ(buffer.capacity() & (buffer.capacity() - 1), 0u) << "a power-of-two class for " << size;
    EXPECT_EQ(Address(buffer) % PooledBuffer::kAlignmentBytes, 0u);
    std::memset(buffer.data(), 0xA5, buffer.capacity());  // every byte of the capacity is usable
  }
  EXPECT_TRUE(PooledBuffer::Allocate(0).empty());
}

TEST(BufferPoolTest, FreedBuffersAreReusedByTheirClass) {
  for (size_t size : {size_t{64} << 10, size_t{1} << 20, size_t{4} << 20}) {
    uintptr_t first = 0;
    {
      PooledBuffer buffer = PooledBuffer::Allocate(size);
      first = Address(buffer);
    }
    PooledBuffer again = PooledBuffer::Allocate(size - 1);
    EXPECT_EQ(Address(again), first) << size;
  }
}

TEST(BufferPoolTest, LargeBuffersSitOnHugePageBoundaries) {
  // 1 MiB buffers are halves of one huge-page mapping; larger ones start on a boundary.
  std::vector<PooledBuffer> held;
  for (int i = 0; i < 8; i++) held.push_back(PooledBuffer::Allocate(1 << 20));
  for (const PooledBuffer& buffer : held) EXPECT_EQ(Address(buffer) % (1 << 20), 0u);
  for (size_t size : {size_t{2} << 20, size_t{3} << 20, size_t{16} << 20, size_t{65} << 20}) {
    PooledBuffer buffer = PooledBuffer::Allocate(size);
    EXPECT_EQ(Address(buffer) % kHugePageBytes, 0u) << size;
    EXPECT_EQ(buffer.capacity() % kHugePageBytes, 0u) << size;
    std::memset(buffer.data(), 0x5A, buffer.capacity());
    if (TransparentHugePagesEnabled()) {
      auto eligible = HugePageEligible(Address(buffer));
      if (eligible.has_value()) {
        EXPECT_TRUE(*eligible) << fmt::format("{} bytes at {:#x}", size, Address(buffer));
      }
    }
  }
}

TEST(BufferPoolTest, BuffersMayBeFreedOnAnotherThread) {
  std::vector<PooledBuffer> made;
  for (size_t size : {size_t{4096}, size_t{1} << 20, size_t{8} << 20, size_t{80} << 20}) {
    made.push_back(PooledBuffer::Allocate(size));
    std::memset(made.back().data(), 1, made.back().size());
  }
  std::thread([&made] { made.clear(); }).join();
  EXPECT_TRUE(made.empty());
}

}  // namespace
}  // namespace cerulean
