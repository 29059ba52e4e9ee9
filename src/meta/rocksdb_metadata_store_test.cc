#include "meta/rocksdb_metadata_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/test_directory.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"

namespace cerulean::meta {
namespace {

using cerulean::testing::RunOnLoop;

class RocksDbMetadataStoreTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"meta"};
  const std::filesystem::path directory_ = temporary_ / "db";
};

TEST_F(RocksDbMetadataStoreTest, CommitGetScanAndReopen) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto store = RocksDbMetadataStore::Open(env, directory_);
    EXPECT_TRUE(store.ok()) << store.status();
    MetadataBatch batch;
    for (std::string key : {"b/2", "a/1", "b/1", "b/3", "c/1"}) batch.Put(key, "v" + key);
    EXPECT_TRUE((co_await (*store)->Commit(std::move(batch))).ok());
    EXPECT_EQ(*(*store)->Get("b/2"), std::optional<std::string>("vb/2"));
    EXPECT_EQ(*(*store)->Get("missing"), std::nullopt);
    auto scanned = (*store)->Scan("b/", "b0", 10);  // "b0" is just past every "b/..." key
    EXPECT_TRUE(scanned.ok());
    std::vector<std::string> keys;
    for (const MetadataEntry& entry : *scanned) keys.push_back(entry.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"b/1", "b/2", "b/3"}));
    EXPECT_EQ((*store)->Scan("a", "z", 2)->size(), 2u);
    MetadataBatch change;  // a delete and a put land together
    change.Delete("b/2");
    change.Put("b/4", "vb/4");
    EXPECT_TRUE((co_await (*store)->Commit(std::move(change))).ok());
    co_await (*store)->Close();
    store->reset();
    auto reopened = RocksDbMetadataStore::Open(env, directory_);
    EXPECT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ(*(*reopened)->Get("b/2"), std::nullopt);
    EXPECT_EQ(*(*reopened)->Get("b/4"), std::optional<std::string>("vb/4"));
    co_await (*reopened)->Close();
  });
}

TEST_F(RocksDbMetadataStoreTest, ConcurrentCommitsShareWalSyncs) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto store = RocksDbMetadataStore::Open(env, directory_);
    EXPECT_TRUE(store.ok()) << store.status();
    std::vector<Task<Status>> commits;
    for (int i = 0; i < 200; i++) {
      MetadataBatch batch;
      batch.Put("k" + std::to_string(i), std::to_string(i));
      commits.push_back((*store)->Commit(std::move(batch)));
    }
    for (const Status& status : co_await WhenAll(std::move(commits))) EXPECT_TRUE(status.ok()) << status;
    EXPECT_LT((*store)->wal_syncs(), 200u);  // grouped: the first alone, the rest together
    EXPECT_EQ((*store)->Scan("k", "l", 1000)->size(), 200u);
    co_await (*store)->Close();
  });
}

TEST_F(RocksDbMetadataStoreTest, UnopenableDirectoryIsAnError) {
  RunOnLoop([&](Env& env) -> Task<void> {
    std::filesystem::create_directories(directory_);
    const std::string file = directory_ / "not-a-directory";
    { std::FILE* f = std::fopen(file.c_str(), "w"); std::fclose(f); }
    auto store = RocksDbMetadataStore::Open(env, file);
    EXPECT_FALSE(store.ok());
    co_return;
  });
}

}  // namespace
}  // namespace cerulean::meta
