// `cerulean bench storage`: the storage node through its rpc service, against fio on the same
// file system in the same run (docs/BENCHMARKS.md).
#pragma once

#include <string>

#include "base/time.h"
#include "bench/bench_report.h"

namespace cerulean::bench {

struct StorageBenchOptions {
  std::string directory = "./cerulean-bench-data";  // on the file system to measure; removed after
  Duration duration = std::chrono::seconds(2);
  int repeats = 3;
  uint64_t read_dataset_bytes = 128ull << 20;  // 4 KiB records read back at random
  size_t latency_reads = 5000;
  int server_core = 0;
  int client_core = 1;
};

BenchReport RunStorageBench(const StorageBenchOptions& options);

}  // namespace cerulean::bench
