// `cerulean bench objects`: objects end to end through the native client against a local
// cluster of one meta and three storage nodes in this process (loopback rpc), held against
// fio, iperf3 and absolute targets measured in the same run (docs/BENCHMARKS.md).
#pragma once

#include <optional>
#include <string>

#include "base/time.h"
#include "bench/bench_report.h"

namespace cerulean::bench {

struct ObjectsBenchOptions {
  std::string directory = "./cerulean-bench-data";  // on the file system to measure; removed after
  int repeats = 3;
  uint64_t object_bytes = 1ull << 30;     // the large PUT and GET
  Duration duration = std::chrono::seconds(2);  // each rate measurement and fio run
  size_t in_flight = 64;                  // concurrent small operations
  size_t list_objects = 1'000'000;        // preloaded for the LIST and the scaling figures
  // Each storage node's read cache (payload cache); unset: room for all of the object.
  std::optional<uint64_t> read_cache_bytes;
};

BenchReport RunObjectsBench(const ObjectsBenchOptions& options);

}  // namespace cerulean::bench
