// `cerulean bench storage`: the storage node through its rpc service, against fio on the same
// file system in the same run (docs/BENCHMARKS.md).
#pragma once

#include <optional>
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
  // Unset: the server (the head node, which serves every read) goes to the CPU that takes the
  // disk's interrupts (bench/cpu_placement.h), the client to the next one.
  std::optional<int> server_core;
  std::optional<int> client_core;
};

BenchReport RunStorageBench(const StorageBenchOptions& options);

}  // namespace cerulean::bench
