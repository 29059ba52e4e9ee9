// fio, run in the same benchmark as the code it is compared with, on the same file system
// (io_uring, O_DIRECT). Each call runs one fio job and reads its JSON report.
#pragma once

#include <optional>
#include <string>

#include "base/time.h"

namespace cerulean::bench {

struct FioResult {
  double iops = 0;
  double bytes_per_second = 0;
  double p50_latency_us = 0;  // completion latency, of reads or writes as the job does
};

struct FioJob {
  std::string directory;  // the file fio uses lives here
  std::string pattern;    // "randread", "write"
  size_t block_bytes = 4096;
  int iodepth = 1;
  bool fdatasync_each_write = false;  // psync with an fdatasync after every write
  uint64_t file_bytes = 256ull << 20;
  Duration runtime = std::chrono::seconds(2);
  int core = -1;
  // Run before `runtime` and left out of the figures (whole seconds).
  Duration ramp = std::chrono::seconds(1);
  // Writes: each block once, into a file preallocated (fallocate) just before, as an
  // append-only store writes a new extent; `runtime` caps it. Otherwise the job rewrites
  // `file_bytes` over and over for `runtime`, and from its second pass on it overwrites blocks it
  // wrote itself, which a file system takes faster than new ones (ext4 here: 2.7-4.5 GB/s
  // against ~2.0-2.7 for new space: writing new space converts preallocated extents).
  bool fresh_file = false;
};

// Nothing when fio is not installed or failed.
std::optional<FioResult> RunFio(const FioJob& job);

// A size for a fresh-file write job in `directory` that no runtime here reaches the end of: a
// third of the free space, between 1 and 32 GiB.
uint64_t FreshWriteFileBytes(const std::string& directory);

}  // namespace cerulean::bench
