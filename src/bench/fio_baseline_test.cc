#include "bench/fio_baseline.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "runtime/test_directory.h"

namespace cerulean::bench {
namespace {

// Both kinds of write job run (fio takes their flags) and leave no file behind. fio comes with
// scripts/setup.sh; without it there is nothing to compare with.
TEST(FioBaselineTest, FreshAndRewritingWriteJobsRunAndCleanUp) {
  if (std::system("command -v fio >/dev/null 2>&1") != 0) GTEST_SKIP() << "fio is not installed";
  // Beside the build, not in /tmp: a tmpfs may refuse O_DIRECT.
  const std::filesystem::path directory = std::filesystem::current_path() / "fio-baseline-test";
  std::filesystem::create_directories(directory);
  for (bool fresh : {true, false}) {
    auto fio = RunFio({.directory = directory.string(), .pattern = "write", .block_bytes = 1 << 20, .iodepth = 4,
                       .file_bytes = 64ull << 20, .runtime = std::chrono::seconds(1), .ramp = Duration::zero(),
                       .fresh_file = fresh});
    ASSERT_TRUE(fio.has_value()) << "fresh_file=" << fresh;
    EXPECT_GT(fio->bytes_per_second, 0) << "fresh_file=" << fresh;
    EXPECT_FALSE(std::filesystem::exists(directory / "fio-baseline.dat"));
  }
  std::filesystem::remove_all(directory);
}

TEST(FioBaselineTest, FreshFilesAreSizedFromTheFreeSpace) {
  cerulean::testing::TestDirectory directory("fio-size");
  const uint64_t bytes = FreshWriteFileBytes(directory.path());
  EXPECT_GE(bytes, 1ull << 30);
  EXPECT_LE(bytes, 32ull << 30);
  EXPECT_EQ(bytes % (1 << 20), 0u);
  const uint64_t free = std::filesystem::space(directory.path()).available;
  if (free >= 3ull << 30) {
    EXPECT_LE(bytes, free / 3 + (1 << 20));
  }
  EXPECT_EQ(FreshWriteFileBytes(directory.path() + "/missing"), 1ull << 30);  // unknown: the floor
}

}  // namespace
}  // namespace cerulean::bench
