#include "bench/rpc_bench.h"

#include <algorithm>
#include <memory>

#include "base/buffer_pool.h"
#include "base/logging.h"
#include "bench/rate.h"
#include "bench/socket_baselines.h"
#include "rpc/bench_messages.h"
#include "rpc/bench_service.h"
#include "rpc/frame.h"
#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h"
#include "rpc/system_service.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/uring/shard_set.h"

namespace cerulean::bench {
namespace {

constexpr char kSuite[] = "rpc";
constexpr size_t kLatencyWarmupRoundTrips = 2'000;
constexpr size_t kSinkPayloadBytes = 1 << 20;

// An in-process server on its own pinned shard, for runs without --target.
class LocalServer {
 public:
  explicit LocalServer(int core) : shards_({.shard_count = 1, .pin_to_cores = true, .first_core = static_cast<size_t>(core)}) {
    rpc::RegisterSystemService(registry_, {.role = "bench", .version = "bench"});
    rpc::RegisterBenchService(registry_);
    address_ = shards_.RunAndWait<NetAddress>(0, [this](Env& env) -> Task<NetAddress> {
      server_ = std::make_unique<rpc::RpcServer>(env, registry_);
      CHECK(server_->Listen({"127.0.0.1", 0}).ok());
      tasks_ = std::make_unique<TaskGroup>(env);
      tasks_->Spawn(server_->Serve());
      co_return server_->address();
    });
  }
  ~LocalServer() {
    shards_.RunAndWait<int>(0, [this](Env&) -> Task<int> {
      co_await server_->Shutdown();
      co_await tasks_->Join();
      tasks_.reset();
      server_.reset();
      co_return 0;
    });
  }
  const NetAddress& address() const { return address_; }

 private:
  ShardSet shards_;
  rpc::ServiceRegistry registry_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::unique_ptr<TaskGroup> tasks_;
  NetAddress address_;
};

struct LatencyRun {
  std::vector<double> latencies_us;  // sorted
};

Task<LatencyRun> MeasurePingLatency(Env& env, NetAddress address, size_t round_trips) {
  rpc::RpcClient client(env);
  rpc::RpcChannel channel = client.Channel(address);
  LatencyRun run;
  run.latencies_us.reserve(round_trips);
  for (size_t i = 0; i < kLatencyWarmupRoundTrips + round_trips; i++) {
    const TimePoint before = env.Now();
    auto result = co_await channel.Call(rpc::kPingMethod, {});
    CHECK(result.ok()) << result.status();
    if (i >= kLatencyWarmupRoundTrips) {
      run.latencies_us.push_back(static_cast<double>((env.Now() - before).count()) / 1000.0);
    }
  }
  co_await client.Close();
  std::sort(run.latencies_us.begin(), run.latencies_us.end());
  co_return run;
}

// Calls (or payload bytes, when `payload_bytes` > 0) per second, `workers` calls in flight.
Task<double> MeasureThroughput(Env& env, NetAddress address, uint32_t method, size_t workers,
                               size_t connections, size_t payload_bytes, Duration duration) {
  rpc::RpcClient client(env, {.connections_per_peer = connections});
  rpc::RpcChannel channel = client.Channel(address);
  // One payload per worker, written once: the bench measures the rpc layer, not memset.
  std::vector<PooledBuffer> payloads;
  std::vector<iovec> pieces;
  for (size_t w = 0; w < workers; w++) {
    payloads.push_back(PooledBuffer::Allocate(payload_bytes));
    for (size_t i = 0; i < payload_bytes; i++) payloads.back().data()[i] = std::byte(i * 31);
    pieces.push_back({payloads.back().data(), payload_bytes});
  }
  const double calls = co_await MeasureRate(env, workers, duration, [&](size_t worker) -> Task<Status> {
    const std::span<const iovec> payload =
        payload_bytes == 0 ? std::span<const iovec>() : std::span<const iovec>(&pieces[worker], 1);
    co_return (co_await channel.Call(method, {}, payload)).status();
  });
  co_await client.Close();
  co_return payload_bytes == 0 ? calls : calls * static_cast<double>(payload_bytes);
}

}  // namespace

BenchReport RunRpcBench(const RpcBenchOptions& options) {
  std::unique_ptr<LocalServer> local;
  NetAddress address;
  if (options.target) {
    address = *options.target;
  } else {
    local = std::make_unique<LocalServer>(options.server_core);
    address = local->address();
  }
  ShardSet client({.shard_count = 1, .pin_to_cores = true, .first_core = static_cast<size_t>(options.client_core)});

  std::vector<double> p50, p99, p999, raw_p50, raw_p99, raw_p999, raw_ops;
  std::vector<double> ping_ops, sink_bytes, stream_bytes, iperf_bytes;
  for (int repeat = 0; repeat < options.repeats; repeat++) {
    LatencyRun ours = client.RunAndWait<LatencyRun>(0, [&](Env& env) {
      return MeasurePingLatency(env, address, options.latency_round_trips);
    });
    p50.push_back(Percentile(ours.latencies_us, 50));
    p99.push_back(Percentile(ours.latencies_us, 99));
    p999.push_back(Percentile(ours.latencies_us, 99.9));
    PingPongResult raw = MeasureRawPingPong(rpc::kFrameHeaderBytes, kLatencyWarmupRoundTrips,
                                            options.latency_round_trips, options.server_core, options.client_core);
    raw_p50.push_back(Percentile(raw.latencies_us, 50));
    raw_p99.push_back(Percentile(raw.latencies_us, 99));
    raw_p999.push_back(Percentile(raw.latencies_us, 99.9));
    raw_ops.push_back(raw.ops_per_second);

    ping_ops.push_back(client.RunAndWait<double>(0, [&](Env& env) {
      return MeasureThroughput(env, address, rpc::kPingMethod, 64, 4, 0, options.throughput_duration);
    }));
    sink_bytes.push_back(client.RunAndWait<double>(0, [&](Env& env) {
      return MeasureThroughput(env, address, rpc::kSinkMethod, 8, 1, kSinkPayloadBytes, options.throughput_duration);
    }));
    stream_bytes.push_back(MeasureRawStream(kSinkPayloadBytes, options.throughput_duration,
                                            options.server_core, options.client_core));
    if (options.run_iperf3) {
      const double iperf = MeasureIperf3(options.throughput_duration, options.server_core, options.client_core);
      if (iperf > 0) iperf_bytes.push_back(iperf);
    }
  }

  BenchReport report;
  const auto latency_case = [&](std::string metric, double ours, double raw, std::string target) {
    report.Add({.suite = kSuite, .name = "ping_0B_1_inflight", .metric = std::move(metric), .value = ours,
                .unit = "us", .baseline_name = "raw_socket_pingpong", .baseline_value = raw,
                .ratio = ours / raw, .target = std::move(target)});
  };
  latency_case("p50_latency", Median(p50), Median(raw_p50), "ratio <= 1.3");
  latency_case("p99_latency", Median(p99), Median(raw_p99), "");
  latency_case("p999_latency", Median(p999), Median(raw_p999), "");
  const double ops = Median(ping_ops);
  report.Add({.suite = kSuite, .name = "ping_0B_64_inflight_4_conns", .metric = "throughput", .value = ops,
              .unit = "ops/s", .baseline_name = "raw_socket_pingpong_1_inflight",
              .baseline_value = Median(raw_ops), .ratio = ops / Median(raw_ops), .target = ">= 200000 ops/s"});
  const double sink = Median(sink_bytes) / 1e9;
  if (!iperf_bytes.empty()) {
    const double iperf = Median(iperf_bytes) / 1e9;
    report.Add({.suite = kSuite, .name = "sink_1MiB_8_inflight", .metric = "throughput", .value = sink,
                .unit = "GB/s", .baseline_name = "iperf3_single_stream", .baseline_value = iperf,
                .ratio = sink / iperf, .target = "ratio >= 0.85"});
  }
  const double stream = Median(stream_bytes) / 1e9;
  report.Add({.suite = kSuite, .name = "sink_1MiB_8_inflight", .metric = "throughput", .value = sink,
              .unit = "GB/s", .baseline_name = "raw_socket_stream", .baseline_value = stream,
              .ratio = sink / stream, .target = iperf_bytes.empty() ? "ratio >= 0.85" : ""});
  return report;
}

}  // namespace cerulean::bench
