#include "bench/storage_bench.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>

#include "base/logging.h"
#include "bench/cpu_placement.h"
#include "bench/fio_baseline.h"
#include "bench/rate.h"
#include "bench/socket_baselines.h"
#include "rpc/frame.h"
#include "rpc/rpc_server.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/uring/shard_set.h"
#include "storage/chain_client.h"
#include "storage/storage_service.h"

namespace cerulean::bench {
namespace {

constexpr char kSuite[] = "storage";
constexpr Duration kCallTimeout = std::chrono::seconds(30);
constexpr Duration kPollBeforeSleep = std::chrono::microseconds(50);

// Three storage nodes (stores, services, servers) in this process, each on its own pinned
// shard as three processes would be: node i on core (first_core + i) % cores. Node 0, the head
// of every chain and the one reads go to, is on `first_core`.
class LocalStorageCluster {
 public:
  static constexpr size_t kNodes = 3;
  LocalStorageCluster(const std::string& directory, int first_core)
      : shards_({.shard_count = kNodes, .pin_to_cores = true, .first_core = static_cast<size_t>(first_core),
                 .loop = {.poll_before_sleep = kPollBeforeSleep}}) {
    for (size_t i = 0; i < kNodes; i++) {
      shards_.RunAndWait<int>(i, [&](Env& env) -> Task<int> {
        auto node = std::make_unique<Node>();
        auto store = co_await storage::ExtentStore::Open(env, directory + "/node" + std::to_string(i),
                                                         {.extent_bytes_max = 1ull << 40});
        CHECK(store.ok()) << store.status();
        node->store = std::move(*store);
        node->peers = std::make_unique<rpc::RpcClient>(env);
        storage::RegisterStorageService(node->registry, *node->store, *node->peers, node->shared_regions);
        node->server = std::make_unique<rpc::RpcServer>(env, node->registry);
        CHECK(node->server->Listen({"127.0.0.1", 0}).ok());
        node->tasks = std::make_unique<TaskGroup>(env);
        node->tasks->Spawn(node->server->Serve());
        addresses_.push_back(node->server->address());
        nodes_.push_back(std::move(node));
        co_return 0;
      });
    }
  }
  ~LocalStorageCluster() {
    for (size_t i = 0; i < kNodes; i++) {
      shards_.RunAndWait<int>(i, [&](Env&) -> Task<int> {
        Node& node = *nodes_[i];
        co_await node.server->Shutdown();
        co_await node.tasks->Join();
        co_await node.peers->Close();
        co_await node.store->Close();
        co_return 0;
      });
    }
    nodes_.clear();
  }
  const std::vector<NetAddress>& addresses() const { return addresses_; }

 private:
  struct Node {
    std::unique_ptr<storage::ExtentStore> store;
    shm::ShmRegions shared_regions;
    std::unique_ptr<rpc::RpcClient> peers;
    rpc::ServiceRegistry registry;
    std::unique_ptr<rpc::RpcServer> server;
    std::unique_ptr<TaskGroup> tasks;
  };
  ShardSet shards_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<NetAddress> addresses_;
};

rpc::MessageBuffer ReadOne(uint64_t extent_id, uint64_t record_offset, uint64_t length) {
  return rpc::EncodeMessage(storage::ReadRequest{.ranges = {{extent_id, record_offset, 0, length}}});
}

struct Figures {
  double read_iops = 0;
  double read_p50_us = 0;
  double append_1m_r1 = 0;  // bytes/s
  double append_1m_r3 = 0;
  double append_4k_ops = 0;
};

Task<Figures> MeasureStorage(Env& env, std::vector<NetAddress> nodes, const StorageBenchOptions& options,
                             uint64_t extent_base) {
  rpc::RpcClient client(env, {.connections_per_peer = 4});
  Figures figures;
  const storage::Chain solo{.version = 1, .replicas = {nodes[0]}};
  const storage::Chain three{.version = 1, .replicas = nodes};
  // Populate: 4 KiB records to read back.
  const uint64_t read_extent = extent_base + 1;
  CHECK((co_await storage::CreateExtentOnChain(client, solo, read_extent, storage::Durability::kSync, kCallTimeout)).ok());
  const size_t records = options.read_dataset_bytes / 4096;
  std::vector<uint64_t> offsets(records);
  std::vector<std::byte> four_k(4096, std::byte{0x5A});
  iovec four_k_piece{four_k.data(), four_k.size()};
  {
    size_t next = 0;
    TaskGroup fill(env);
    for (int w = 0; w < 64; w++) {
      fill.Spawn([](rpc::RpcClient& c, storage::Chain chain, uint64_t extent, iovec* piece, size_t* next,
                    std::vector<uint64_t>* out) -> Task<void> {
        while (*next < out->size()) {
          const size_t index = (*next)++;
          auto appended = co_await storage::AppendToChain(c, chain, extent, {piece, 1}, {}, kCallTimeout);
          CHECK(appended.ok()) << appended.status();
          (*out)[index] = appended->record_offset;
        }
      }(client, solo, read_extent, &four_k_piece, &next, &offsets));
    }
    co_await fill.Join();
  }
  rpc::RpcChannel head = client.Channel(nodes[0]);
  std::vector<std::vector<std::byte>> read_buffers(32, std::vector<std::byte>(4096));
  figures.read_iops = co_await MeasureRate(env, 32, options.duration, [&](size_t worker) -> Task<Status> {
    const uint64_t offset = offsets[env.Random() % offsets.size()];
    rpc::MessageBuffer message = ReadOne(read_extent, offset, 4096);
    auto result = co_await head.Call(storage::kReadMethod, message.span(), {},
                                     {.timeout = kCallTimeout, .response_payload = read_buffers[worker]});
    co_return result.status();
  });
  std::vector<double> latencies;
  for (size_t i = 0; i < options.latency_reads; i++) {
    const uint64_t offset = offsets[env.Random() % offsets.size()];
    rpc::MessageBuffer message = ReadOne(read_extent, offset, 4096);
    const TimePoint before = env.Now();
    auto result = co_await head.Call(storage::kReadMethod, message.span(), {},
                                     {.timeout = kCallTimeout, .response_payload = read_buffers[0]});
    CHECK(result.ok()) << result.status();
    latencies.push_back(static_cast<double>((env.Now() - before).count()) / 1000.0);
  }
  std::sort(latencies.begin(), latencies.end());
  figures.read_p50_us = Percentile(latencies, 50);

  // Appends. Each case writes a fresh extent, deleted afterwards to give the space back.
  std::vector<std::byte> one_m(1 << 20, std::byte{0x3C});
  iovec one_m_piece{one_m.data(), one_m.size()};
  const auto append_case = [&](storage::Chain chain, uint64_t extent, iovec* piece, size_t workers) -> Task<double> {
    CHECK((co_await storage::CreateExtentOnChain(client, chain, extent, storage::Durability::kSync, kCallTimeout)).ok());
    const double rate = co_await MeasureRate(env, workers, options.duration, [&](size_t) -> Task<Status> {
      auto appended = co_await storage::AppendToChain(client, chain, extent, {piece, 1}, {}, kCallTimeout);
      co_return appended.status();
    });
    for (const NetAddress& node : chain.replicas) {
      rpc::MessageBuffer message = rpc::EncodeMessage(storage::ExtentRequest{.extent_id = extent});
      Status deleted = (co_await client.Call(node, storage::kDeleteExtentMethod, message.span())).status();
      CHECK(deleted.ok()) << deleted;
    }
    co_return rate;
  };
  figures.append_1m_r1 = co_await append_case(solo, extent_base + 2, &one_m_piece, 16) * one_m.size();
  figures.append_1m_r3 = co_await append_case(three, extent_base + 3, &one_m_piece, 16) * one_m.size();
  figures.append_4k_ops = co_await append_case(solo, extent_base + 4, &four_k_piece, 64);
  co_await client.Close();
  co_return figures;
}

}  // namespace

BenchReport RunStorageBench(const StorageBenchOptions& options) {
  std::filesystem::remove_all(options.directory);
  std::filesystem::create_directories(options.directory);
  std::vector<Figures> runs;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int server_core = options.server_core.value_or(DiskInterruptCpu(options.directory).value_or(0));
  const int client_core = options.client_core.value_or((server_core + 1) % cores);
  LOG_INFO("bench storage: head node on cpu {}, client on cpu {}", server_core, client_core);
  std::vector<double> fio_read_iops, fio_read_p50, fio_write_bw, fio_overwrite_bw, fio_sync_iops, tcp_p50;
  {
    LocalStorageCluster cluster(options.directory, server_core);
    // The client polls as the nodes do (ClientOptions::poll_before_sleep).
    ShardSet client({.shard_count = 1, .pin_to_cores = true, .first_core = static_cast<size_t>(client_core),
                     .loop = {.poll_before_sleep = kPollBeforeSleep}});
    for (int repeat = 0; repeat < options.repeats; repeat++) {
      runs.push_back(client.RunAndWait<Figures>(0, [&](Env& env) {
        return MeasureStorage(env, cluster.addresses(), options, uint64_t(repeat) * 100);
      }));
      const std::string& dir = options.directory;
      if (auto fio = RunFio({.directory = dir, .pattern = "randread", .iodepth = 32,
                             .file_bytes = options.read_dataset_bytes * 2, .runtime = options.duration})) {
        fio_read_iops.push_back(fio->iops);
      }
      if (auto fio = RunFio({.directory = dir, .pattern = "randread", .iodepth = 1,
                             .file_bytes = options.read_dataset_bytes * 2, .runtime = options.duration})) {
        fio_read_p50.push_back(fio->p50_latency_us);
      }
      // Appends write new space, and so does this baseline; fio rewriting its own file is
      // reported beside it.
      if (auto fio = RunFio({.directory = dir, .pattern = "write", .block_bytes = 1 << 20, .iodepth = 16,
                             .file_bytes = FreshWriteFileBytes(dir), .runtime = options.duration,
                             .fresh_file = true})) {
        fio_write_bw.push_back(fio->bytes_per_second);
      }
      if (auto fio = RunFio({.directory = dir, .pattern = "write", .block_bytes = 1 << 20, .iodepth = 16,
                             .file_bytes = 4ull << 30, .runtime = options.duration})) {
        fio_overwrite_bw.push_back(fio->bytes_per_second);
      }
      if (auto fio = RunFio({.directory = dir, .pattern = "write", .block_bytes = 4096, .iodepth = 1,
                             .fdatasync_each_write = true, .file_bytes = 256ull << 20, .runtime = options.duration})) {
        fio_sync_iops.push_back(fio->iops);
      }
      PingPongResult ping = MeasureRawPingPong(rpc::kFrameHeaderBytes, 1000, 5000, server_core, client_core);
      tcp_p50.push_back(Percentile(ping.latencies_us, 50));
    }
  }
  std::filesystem::remove_all(options.directory);

  const auto median_of = [&](double Figures::*field) {
    std::vector<double> values;
    for (const Figures& f : runs) values.push_back(f.*field);
    return Median(values);
  };
  BenchReport report;
  const auto add = [&](std::string name, std::string metric, double value, std::string unit, std::string baseline_name,
                       const std::vector<double>& baseline, double baseline_scale, std::string target) {
    BenchCase c{.suite = kSuite, .name = std::move(name), .metric = std::move(metric), .value = value,
                .unit = std::move(unit), .target = std::move(target)};
    if (!baseline.empty()) {
      c.baseline_name = std::move(baseline_name);
      c.baseline_value = Median(baseline) * baseline_scale;
      c.ratio = value / *c.baseline_value;
    }
    report.Add(std::move(c));
  };
  add("read_4KiB_32_inflight", "iops", median_of(&Figures::read_iops), "ops/s", "fio_randread_4k_qd32", fio_read_iops,
      1.0, "ratio >= 0.70");
  // The latency target: fio's p50 plus one and a half raw TCP round trips.
  std::vector<double> latency_budget;
  if (!fio_read_p50.empty()) latency_budget.push_back(Median(fio_read_p50) + 1.5 * Median(tcp_p50));
  add("read_4KiB_1_inflight", "p50_latency", median_of(&Figures::read_p50_us), "us",
      "fio_randread_4k_qd1_p50+1.5*tcp_pingpong_p50", latency_budget, 1.0, "ratio <= 1.0");
  add("append_1MiB_R1_16_inflight", "throughput", median_of(&Figures::append_1m_r1) / 1e9, "GB/s",
      "fio_write_1M_qd16_new_file", fio_write_bw, 1e-9, "ratio >= 0.80");
  add("append_1MiB_R1_16_inflight_vs_overwrite", "throughput", median_of(&Figures::append_1m_r1) / 1e9, "GB/s",
      "fio_overwrite_1M_qd16", fio_overwrite_bw, 1e-9, "report");
  add("append_1MiB_R3_16_inflight", "throughput", median_of(&Figures::append_1m_r3) / 1e9, "GB/s",
      "fio_write_1M_qd16_new_file/3", fio_write_bw, 1e-9 / 3, "ratio >= 0.80");
  add("append_1MiB_R3_16_inflight_vs_overwrite", "throughput", median_of(&Figures::append_1m_r3) / 1e9, "GB/s",
      "fio_overwrite_1M_qd16/3", fio_overwrite_bw, 1e-9 / 3, "report");
  add("append_4KiB_64_inflight_sync", "throughput", median_of(&Figures::append_4k_ops), "ops/s",
      "fio_write_4k_fdatasync_each", fio_sync_iops, 1.0, "ratio >= 5");
  return report;
}

}  // namespace cerulean::bench
