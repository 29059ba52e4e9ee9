#include "runtime/sim/sim_disk.h"

#include <gtest/gtest.h>

#include <string>

#include "base/buffer_pool.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_test_io.h"
#include "runtime/sim/sim_test_support.h"
#include "runtime/sim/sim_world.h"

namespace cerulean {
namespace {

class SimDiskTest : public ::testing::Test {
 protected:
  SimDiskTest() : seed_(SimSeed()), world_(seed_), env_(world_.AddNode("a")) {}

  std::unique_ptr<File> Open(const std::string& path, FileOptions options = {.create = true}) {
    auto opened = RunToCompletion(world_, env_, env_.OpenFile(path, options));
    EXPECT_TRUE(opened.has_value() && opened->ok()) << (opened ? opened->status() : Status());
    return opened && opened->ok() ? std::move(**opened) : nullptr;
  }
  Status Write(File& file, uint64_t offset, std::string bytes) {
    return *RunToCompletion(world_, env_, WriteFileString(file, offset, std::move(bytes)));
  }
  Status Sync(File& file) { return *RunToCompletion(world_, env_, file.DataSync()); }
  std::string Read(File& file, uint64_t offset, size_t length) {
    auto read = RunToCompletion(world_, env_, ReadFileString(file, offset, length));
    EXPECT_TRUE(read.has_value() && read->ok()) << (read ? read->status() : Status());
    return read && read->ok() ? **read : std::string();
  }

  uint64_t seed_;
  SimWorld world_;
  SimEnv& env_;
};

TEST_F(SimDiskTest, SyncedWritesSurviveACrash) {
  SIM_SCOPED_SEED(seed_);
  std::unique_ptr<File> file = Open("/data");
  ASSERT_TRUE(Write(*file, 0, "durable").ok());
  ASSERT_TRUE(Sync(*file).ok());
  file.reset();
  world_.disk("a").Crash();
  file = Open("/data", {});
  EXPECT_EQ(Read(*file, 0, 100), "durable");
  EXPECT_NE(world_.trace().find("crash: power lost"), std::string::npos);
}

TEST_F(SimDiskTest, UnsyncedWritesAreKeptLostOrTorn) {
  constexpr size_t kBlockBytes = 4096;
  const std::string old_block(kBlockBytes, 'o');
  const std::string synced_block(kBlockBytes, 's');
  const std::string new_block(kBlockBytes, 'n');
  int kept = 0, lost = 0, torn = 0;
  for (uint64_t seed : SimSeeds(100, seed_)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    SimEnv& env = world.AddNode("a");
    auto opened = RunToCompletion(world, env, env.OpenFile("/f", {.create = true}));
    ASSERT_TRUE(opened.has_value() && opened->ok());
    std::unique_ptr<File> file = std::move(**opened);
    ASSERT_TRUE(RunToCompletion(world, env, WriteFileString(*file, 0, old_block))->ok());
    ASSERT_TRUE(
        RunToCompletion(world, env, WriteFileString(*file, kBlockBytes, synced_block))->ok());
    ASSERT_TRUE(RunToCompletion(world, env, file->DataSync())->ok());
    ASSERT_TRUE(RunToCompletion(world, env, WriteFileString(*file, 0, new_block))->ok());
    file.reset();
    world.disk("a").Crash();

    opened = RunToCompletion(world, env, env.OpenFile("/f", {}));
    ASSERT_TRUE(opened.has_value() && opened->ok());
    auto read = RunToCompletion(world, env, ReadFileString(***opened, 0, 2 * kBlockBytes));
    ASSERT_TRUE(read.has_value() && read->ok());
    const std::string& bytes = **read;
    ASSERT_EQ(bytes.size(), 2 * kBlockBytes);
    // A synced byte is never lost.
    EXPECT_EQ(bytes.substr(kBlockBytes), synced_block);
    const std::string first = bytes.substr(0, kBlockBytes);
    const size_t new_prefix = first.find_first_not_of('n');
    if (first == new_block) {
      kept++;
    } else if (first == old_block) {
      lost++;
    } else {
      // Torn: whole sectors of the new bytes, then the old ones.
      ASSERT_NE(new_prefix, std::string::npos);
      EXPECT_EQ(new_prefix % SimDisk::kSectorBytes, 0u);
      EXPECT_EQ(first.substr(new_prefix), old_block.substr(new_prefix));
      torn++;
    }
  }
  if (SimSeeds(2).size() > 1) {  // a single replayed seed cannot show all three
    EXPECT_GT(kept, 0);
    EXPECT_GT(lost, 0);
    EXPECT_GT(torn, 0);
  }
}

TEST_F(SimDiskTest, FlipBitCorruptsStoredBytes) {
  SIM_SCOPED_SEED(seed_);
  std::unique_ptr<File> file = Open("/f");
  ASSERT_TRUE(Write(*file, 0, "AAAA").ok());
  ASSERT_TRUE(world_.disk("a").FlipBit("/f", 2, 0).ok());
  EXPECT_EQ(Read(*file, 0, 4), "AA@A");  // 'A' is 0x41, 0x40 is '@'
  EXPECT_EQ(world_.disk("a").FlipBit("/f", 10, 0).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(world_.disk("a").FlipBit("/nothing", 0, 0).code(), StatusCode::kNotFound);
}

TEST_F(SimDiskTest, ReadBitFlipsChangeOneBitOfWhatIsReturned) {
  SIM_SCOPED_SEED(seed_);
  std::unique_ptr<File> file = Open("/f");
  const std::string stored(64, '\0');
  ASSERT_TRUE(Write(*file, 0, stored).ok());
  world_.disk("a").set_bit_flip_probability(1);
  const std::string read = Read(*file, 0, stored.size());
  int flipped_bits = 0;
  for (char c : read) flipped_bits += __builtin_popcount(static_cast<unsigned char>(c));
  EXPECT_EQ(flipped_bits, 1);
  world_.disk("a").set_bit_flip_probability(0);
  EXPECT_EQ(Read(*file, 0, stored.size()), stored);  // the stored bytes are intact
}

TEST_F(SimDiskTest, FullDiskRefusesGrowthAndKeepsData) {
  SIM_SCOPED_SEED(seed_);
  world_.disk("a").set_capacity_bytes(8192);
  std::unique_ptr<File> file = Open("/f");
  ASSERT_TRUE(Write(*file, 0, std::string(8000, 'x')).ok());
  Status full = Write(*file, 8000, std::string(500, 'y'));
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full;
  EXPECT_NE(full.message().find("disk full"), std::string::npos);
  EXPECT_EQ(*file->Size(), 8000u);
  EXPECT_EQ(Read(*file, 0, 9000), std::string(8000, 'x'));
  EXPECT_EQ(RunToCompletion(world_, env_, file->Allocate(0, 10000, File::AllocateMode::kKeepSize))->code(),
            StatusCode::kResourceExhausted);
  // Overwrites within the stored bytes still work.
  EXPECT_TRUE(Write(*file, 0, "yy").ok());
  EXPECT_EQ(world_.disk("a").used_bytes(), 8000u);
}

TEST_F(SimDiskTest, DirectIoNeedsAlignment) {
  SIM_SCOPED_SEED(seed_);
  std::unique_ptr<File> file = Open("/f", {.create = true, .direct = true});
  PooledBuffer aligned = PooledBuffer::Allocate(4096);
  std::fill(aligned.data(), aligned.data() + aligned.size(), std::byte{7});
  auto write = [&](uint64_t offset, void* base, size_t length) {
    iovec piece{base, length};
    return *RunToCompletion(world_, env_, file->Write(offset, std::span<const iovec>(&piece, 1)));
  };
  EXPECT_TRUE(write(0, aligned.data(), 4096).ok());
  EXPECT_EQ(write(512, aligned.data(), 4096).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(write(0, aligned.data() + 1, 4095).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(write(0, aligned.data(), 100).code(), StatusCode::kInvalidArgument);
  auto read = [&](uint64_t offset, std::span<std::byte> buffer) {
    return *RunToCompletion(world_, env_, file->Read(offset, buffer));
  };
  EXPECT_EQ(*read(0, aligned.span()), 4096u);
  EXPECT_EQ(read(0, aligned.span().subspan(1, 4095)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(read(100, aligned.span()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SimDiskTest, InjectedFailures) {
  SIM_SCOPED_SEED(seed_);
  std::unique_ptr<File> file = Open("/f");
  world_.disk("a").set_failure_probability(1);
  Status failed = Write(*file, 0, "x");
  EXPECT_EQ(failed.code(), StatusCode::kDataLoss);
  EXPECT_NE(failed.message().find("injected I/O error"), std::string::npos);
  EXPECT_FALSE(Sync(*file).ok());
  EXPECT_EQ(*file->Size(), 0u);  // a failed write changes nothing
  world_.disk("a").set_failure_probability(0);
  EXPECT_TRUE(Write(*file, 0, "x").ok());
}

TEST_F(SimDiskTest, DirectoriesAndNames) {
  SIM_SCOPED_SEED(seed_);
  auto missing = RunToCompletion(world_, env_, env_.OpenFile("/d/f", {.create = true}));
  EXPECT_EQ(missing->status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(env_.CreateDirectories("/d/e").ok());
  EXPECT_TRUE(env_.CreateDirectories("/d/e").ok());
  std::unique_ptr<File> file = Open("/d/f");
  ASSERT_TRUE(Write(*file, 0, "contents").ok());
  file.reset();
  EXPECT_EQ(*env_.ListDirectory("/d"), (std::vector<std::string>{"e", "f"}));
  EXPECT_EQ(*env_.ListDirectory("/"), (std::vector<std::string>{"d"}));
  ASSERT_TRUE(RunToCompletion(world_, env_, env_.RenameFile("/d/f", "/d/e/g"))->ok());
  EXPECT_EQ(*env_.ListDirectory("/d"), (std::vector<std::string>{"e"}));
  file = Open("/d/e/g", {});
  EXPECT_EQ(Read(*file, 0, 100), "contents");
  file.reset();
  EXPECT_EQ(env_.RemoveFile("/d").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(env_.RemoveFile("/d/e/g").ok());
  EXPECT_EQ(env_.RemoveFile("/d/e/g").code(), StatusCode::kNotFound);
  EXPECT_TRUE(env_.RemoveFile("/d/e").ok());
  EXPECT_EQ(env_.ListDirectory("/d/e").status().code(), StatusCode::kNotFound);
  auto absent = RunToCompletion(world_, env_, env_.OpenFile("/d/none", {}));
  EXPECT_EQ(absent->status().code(), StatusCode::kNotFound);
}

TEST_F(SimDiskTest, ReadOnlyFilesRefuseWrites) {
  SIM_SCOPED_SEED(seed_);
  Open("/f").reset();
  std::unique_ptr<File> file = Open("/f", {.read_only = true});
  EXPECT_EQ(Write(*file, 0, "x").code(), StatusCode::kPermissionDenied);
}

TEST_F(SimDiskTest, TruncateIsUndoneByACrashUnlessSynced) {
  SIM_SCOPED_SEED(seed_);
  std::unique_ptr<File> file = Open("/f");
  ASSERT_TRUE(Write(*file, 0, "0123456789").ok());
  ASSERT_TRUE(Sync(*file).ok());
  ASSERT_TRUE(RunToCompletion(world_, env_, file->Truncate(4))->ok());
  EXPECT_EQ(*file->Size(), 4u);
  ASSERT_TRUE(Sync(*file).ok());
  file.reset();
  world_.disk("a").Crash();
  file = Open("/f", {});
  EXPECT_EQ(Read(*file, 0, 100), "0123");
}

}  // namespace
}  // namespace cerulean
