// `cerulean bench kv`: the KV cache through the native KV client against a local cluster (one
// meta, one storage node, in this process over loopback rpc), held against iperf3, the raw TCP
// ping-pong, Redis (redis-server driven by redis-benchmark) and memcached (driven by our own
// multi-get generator), all measured in the same run (docs/BENCHMARKS.md).
#pragma once

#include <string>
#include <vector>

#include "base/time.h"
#include "bench/bench_report.h"

namespace cerulean::bench {

struct KvBenchOptions {
  std::string directory = "./cerulean-bench-data";  // the cluster's files; removed after
  int repeats = 3;
  Duration duration = std::chrono::seconds(2);  // each timed run
  uint64_t working_set_bytes = 256ull << 20;     // values per profile, preloaded
  std::vector<std::string> profiles;             // names to run (4KiB, 64KiB...); empty: all
  bool trace = true;                             // the trace-like mix with an SSD tier
};

BenchReport RunKvBench(const KvBenchOptions& options);

}  // namespace cerulean::bench
