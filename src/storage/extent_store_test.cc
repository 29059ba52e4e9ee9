// The extent store on the real disk through io_uring and O_DIRECT.
#include "storage/extent_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

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

}  // namespace
}  // namespace cerulean::storage
