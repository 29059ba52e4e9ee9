// `cerulean bench rpc`: the native rpc layer against plain sockets and iperf3, in one run.
#pragma once

#include <optional>

#include "base/time.h"
#include "bench/bench_report.h"
#include "runtime/net_address.h"

namespace cerulean::bench {

struct RpcBenchOptions {
  // A running server to measure; without one, the bench starts its own on the server core.
  std::optional<NetAddress> target;
  Duration throughput_duration = std::chrono::seconds(2);
  size_t latency_round_trips = 20'000;
  int repeats = 3;  // each figure is the median of this many runs
  bool run_iperf3 = true;
  int server_core = 0;
  int client_core = 1;
};

BenchReport RunRpcBench(const RpcBenchOptions& options);

}  // namespace cerulean::bench
