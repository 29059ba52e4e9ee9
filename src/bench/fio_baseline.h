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
};

// Nothing when fio is not installed or failed.
std::optional<FioResult> RunFio(const FioJob& job);

}  // namespace cerulean::bench
