#include "bench/objects_bench.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "base/logging.h"
#include "base/md5.h"
#include "bench/fio_baseline.h"
#include "bench/socket_baselines.h"
#include "cerulean/client.h"
#include "client/client_core.h"
#include "meta/meta_keys.h"
#include "runtime/uring/shard_set.h"
#include "runtime/when_all.h"
#include "server/local_cluster.h"

namespace cerulean::bench {
namespace {

constexpr const char* kSuite = "objects";
constexpr double kGB = 1e9;

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// A client core on its own shard, for many small operations in flight at once: the coroutine
// API under the public Client, without a thread per call.
class CoreRunner {
 public:
  explicit CoreRunner(const std::string& meta_address) : shards_({.shard_count = 1}) {
    ClientOptions options;
    options.meta_address = meta_address;
    Status opened = shards_.RunAndWait<Status>(0, [&](Env& env) -> Task<Status> {
      auto core = co_await client::ClientCore::Open(env, options);
      if (!core.ok()) co_return core.status();
      core_ = std::move(*core);
      co_return Status::Ok();
    });
    CHECK(opened.ok()) << opened;
  }
  ~CoreRunner() {
    shards_.RunAndWait<int>(0, [&](Env&) -> Task<int> {
      co_await core_->Close();
      core_.reset();
      co_return 0;
    });
    shards_.Stop();
  }

  // Operations per second of `op(worker, i)` with `in_flight` workers for `duration`.
  double Rate(size_t in_flight, Duration duration, std::function<Task<Status>(client::ClientCore&, size_t, size_t)> op) {
    return shards_.RunAndWait<double>(0, [&](Env& env) -> Task<double> {
      const TimePoint end = env.Now() + duration;
      size_t done = 0;
      Status failed;
      auto worker = [&](size_t id) -> Task<Status> {
        for (size_t i = 0; env.Now() < end && failed.ok(); i++) {
          Status status = co_await op(*core_, id, i);
          if (!status.ok()) failed = status;
          done++;
        }
        co_return Status::Ok();
      };
      const TimePoint start = env.Now();
      std::vector<Task<Status>> workers;
      for (size_t id = 0; id < in_flight; id++) workers.push_back(worker(id));
      co_await WhenAll(std::move(workers));
      CHECK(failed.ok()) << "objects bench: " << failed;
      co_return static_cast<double>(done) / std::chrono::duration<double>(env.Now() - start).count();
    });
  }

  // The median latency, in microseconds, of `count` operations one at a time.
  double MedianLatencyUs(size_t count, std::function<Task<Status>(client::ClientCore&, size_t)> op) {
    return shards_.RunAndWait<double>(0, [&](Env& env) -> Task<double> {
      std::vector<double> latencies;
      for (size_t i = 0; i < count; i++) {
        const TimePoint start = env.Now();
        Status status = co_await op(*core_, i);
        CHECK(status.ok()) << "objects bench: " << status;
        latencies.push_back(static_cast<double>(ToMicros(env.Now() - start)));
      }
      co_return Median(latencies);
    });
  }

  // The seconds it takes to list all of `container` a page of 1000 at a time, and the count.
  std::pair<double, size_t> ListAll(const std::string& container) {
    return shards_.RunAndWait<std::pair<double, size_t>>(0, [&](Env& env) -> Task<std::pair<double, size_t>> {
      const TimePoint start = env.Now();
      ListOptions options;
      options.page_size = 1000;
      size_t listed = 0;
      while (true) {
        auto page = co_await core_->ListPage(container, options);
        CHECK(page.ok()) << page.status();
        listed += page->objects.size();
        if (!page->truncated) break;
        options.start_after = page->next_start_after;
      }
      co_return std::make_pair(std::chrono::duration<double>(env.Now() - start).count(), listed);
    });
  }

 private:
  ShardSet shards_;
  std::unique_ptr<client::ClientCore> core_;
};

Task<Status> PutEmpty(client::ClientCore& core, std::string container, std::string name) {
  client::UploadResult nothing;
  PutOptions options;
  std::string etag = "\"d41d8cd98f00b204e9800998ecf8427e\"";  // named: no literal into a coroutine's string
  auto put = co_await core.Commit(container, name, std::move(nothing), std::move(etag), 0, options);
  co_return put.status();
}

Task<Status> HeadOne(client::ClientCore& core, std::string container, std::string name) {
  ReadConditions none;
  auto head = co_await core.Head(container, name, none);
  co_return head.status();
}

// Writes `count` empty object records straight into meta's store, names "<prefix><index>",
// from `first` on: a million objects in seconds, where puts through rpc would take a minute.
void Preload(server::LocalCluster& cluster, const std::string& container, size_t first, size_t count) {
  meta::ObjectRecord record;
  record.etag = "\"d41d8cd98f00b204e9800998ecf8427e\"";
  record.content_type = "application/octet-stream";
  record.created_unix_ns = record.modified_unix_ns = WallClockUnixNanos();
  const std::string value = meta::EncodeObjectRecord(record);
  Status status = cluster.RunOn<Status>(0, [&](server::ServerNode& node, Env&) -> Task<Status> {
    for (size_t done = 0; done < count;) {
      meta::MetadataBatch batch;
      const size_t batch_end = std::min(count, done + 10'000);
      for (; done < batch_end; done++) batch.Put(meta::keys::Object(container, fmt::format("obj/{:08}", first + done)), value);
      CO_RETURN_IF_ERROR(co_await node.meta()->store().Commit(std::move(batch)));
    }
    co_return Status::Ok();
  });
  CHECK(status.ok()) << status;
}

struct Figures {
  double put_r1 = 0;   // bytes/s
  double put_r3 = 0;
  double get_cold = 0;
  double get_again = 0;
  double get_tcp = 0;     // the same GET without the same-host shared memory
  double put_r1_tcp = 0;  // and the R = 1 PUT
  double empty_puts = 0;  // ops/s
  double heads = 0;
};

}  // namespace

BenchReport RunObjectsBench(const ObjectsBenchOptions& options) {
  const std::string dir = options.directory;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<Figures> runs;
  std::vector<double> fio_write, fio_overwrite, fio_read, iperf;
  double put_p50_small = 0, head_p50_small = 0, put_p50_large = 0, head_p50_large = 0;
  double list_seconds = 0;
  size_t listed = 0;
  double resident_per_million = 0;

  // The large object, written once (touched, so first-touch costs are not measured).
  std::string data(options.object_bytes, '\0');
  std::mt19937_64 random(42);
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    const uint64_t word = random();
    std::memcpy(data.data() + i, &word, 8);
  }
  std::string into(options.object_bytes, '\1');
  const auto bytes = std::as_bytes(std::span(data.data(), data.size()));
  {
    // Each node's read cache holds the whole object by default (with room to spare: one node
    // may hold every piece, and the cache fills in segments), as the page cache of a machine this
    // size would: the second GET is the "hot" case.
    const uint64_t read_cache_bytes = options.read_cache_bytes.value_or(options.object_bytes / 4 * 5 + (64 << 20));
    server::LocalCluster cluster({.directory = dir + "/cluster", .storage_nodes = 3, .replicas = 3,
                                  .read_cache_bytes_per_node = read_cache_bytes});
    auto opened_r1 = Client::Open({.meta_address = cluster.meta_address(), .replicas = 1});
    auto opened_r3 = Client::Open({.meta_address = cluster.meta_address(), .replicas = 3});
    // The same reads without the same-host shared memory: what a client on another host gets.
    auto opened_tcp = Client::Open({.meta_address = cluster.meta_address(), .replicas = 1, .shared_memory = false});
    CHECK(opened_r1.ok() && opened_r3.ok() && opened_tcp.ok());
    Client& r1 = **opened_r1;
    Client& tcp = **opened_tcp;
    Client& r3 = **opened_r3;
    CHECK(r1.CreateContainer("bench").ok());
    CHECK(r1.CreateContainer("list").ok());
    CoreRunner core(cluster.meta_address());
    // Warm-up: a small put, get and the rpc connections.
    const size_t warm_bytes = std::min<size_t>(bytes.size(), 64 << 20);
    CHECK(r1.Put("bench", "warm", bytes.first(warm_bytes)).ok());
    CHECK(r1.GetRange("bench", "warm", 0, std::as_writable_bytes(std::span(into)).first(warm_bytes)).ok());
    CHECK(tcp.GetRange("bench", "warm", 0, std::as_writable_bytes(std::span(into)).first(warm_bytes)).ok());

    for (int repeat = 0; repeat < options.repeats; repeat++) {
      Figures f;
      auto start = std::chrono::steady_clock::now();
      CHECK(r1.Put("bench", "big-r1", bytes).ok());
      f.put_r1 = static_cast<double>(bytes.size()) / Seconds(std::chrono::steady_clock::now() - start);
      start = std::chrono::steady_clock::now();
      CHECK(tcp.Put("bench", "big-tcp", bytes).ok());
      f.put_r1_tcp = static_cast<double>(bytes.size()) / Seconds(std::chrono::steady_clock::now() - start);
      CHECK(tcp.Delete("bench", "big-tcp").ok());
      start = std::chrono::steady_clock::now();
      CHECK(r3.Put("bench", "big-r3", bytes).ok());
      f.put_r3 = static_cast<double>(bytes.size()) / Seconds(std::chrono::steady_clock::now() - start);
      for (double* figure : {&f.get_cold, &f.get_again, &f.get_tcp}) {
        Client& reader = figure == &f.get_tcp ? tcp : r1;
        start = std::chrono::steady_clock::now();
        auto got = reader.GetRange("bench", "big-r1", 0, std::as_writable_bytes(std::span(into)));
        CHECK(got.ok() && *got == bytes.size()) << got.status();
        *figure = static_cast<double>(bytes.size()) / Seconds(std::chrono::steady_clock::now() - start);
      }
      CHECK(std::memcmp(into.data(), data.data(), data.size()) == 0) << "objects bench: GET returned other bytes";
      const std::string prefix = fmt::format("empty/{}/", repeat);
      f.empty_puts = core.Rate(options.in_flight, options.duration, [&](client::ClientCore& c, size_t worker, size_t i) {
        return PutEmpty(c, "bench", fmt::format("{}{}/{}", prefix, worker, i));
      });
      f.heads = core.Rate(options.in_flight, options.duration, [&](client::ClientCore& c, size_t worker, size_t) {
        return HeadOne(c, "bench", fmt::format("{}{}/0", prefix, worker));
      });
      runs.push_back(f);
      // PUTs write new space, and so does this baseline; fio rewriting its own file is
      // reported beside it.
      if (auto fio = RunFio({.directory = dir, .pattern = "write", .block_bytes = 1 << 20, .iodepth = 16,
                             .file_bytes = FreshWriteFileBytes(dir), .runtime = options.duration,
                             .fresh_file = true})) {
        fio_write.push_back(fio->bytes_per_second);
      }
      if (auto fio = RunFio({.directory = dir, .pattern = "write", .block_bytes = 1 << 20, .iodepth = 16,
                             .file_bytes = 4ull << 30, .runtime = options.duration})) {
        fio_overwrite.push_back(fio->bytes_per_second);
      }
      if (auto fio = RunFio({.directory = dir, .pattern = "read", .block_bytes = 1 << 20, .iodepth = 16,
                             .file_bytes = 4ull << 30, .runtime = options.duration})) {
        fio_read.push_back(fio->bytes_per_second);
      }
      const double iperf3 = MeasureIperf3(options.duration, 0, 1);
      if (iperf3 > 0) iperf.push_back(iperf3);
      CHECK(r1.Delete("bench", "big-r1").ok() && r3.Delete("bench", "big-r3").ok());
    }

    // PUT and HEAD latency with 10^3 objects in the container, then with list_objects.
    const auto measure_latency = [&](double& put_p50, double& head_p50, const std::string& tag) {
      put_p50 = core.MedianLatencyUs(500, [&](client::ClientCore& c, size_t i) {
        return PutEmpty(c, "list", fmt::format("obj/{}-{:04}", tag, i));
      });
      head_p50 = core.MedianLatencyUs(500, [&](client::ClientCore& c, size_t i) {
        return HeadOne(c, "list", fmt::format("obj/{:08}", (i * 7919) % 1000));
      });
    };
    Preload(cluster, "list", 0, 1000);
    measure_latency(put_p50_small, head_p50_small, "small");
    const uint64_t resident_before = ResidentBytes();
    Preload(cluster, "list", 1000, options.list_objects - 1000);
    measure_latency(put_p50_large, head_p50_large, "large");
    std::tie(list_seconds, listed) = core.ListAll("list");
    const uint64_t resident_after = ResidentBytes();
    resident_per_million = static_cast<double>(resident_after - std::min(resident_after, resident_before)) /
                           (static_cast<double>(options.list_objects) / 1e6);
  }
  std::filesystem::remove_all(dir);

  const auto median_of = [&](double Figures::*field) {
    std::vector<double> values;
    for (const Figures& f : runs) values.push_back(f.*field);
    return Median(values);
  };
  BenchReport report;
  const auto add = [&](std::string name, std::string metric, double value, std::string unit, std::string baseline_name,
                       std::optional<double> baseline, std::string target, bool lower_is_better = false) {
    BenchCase c{.suite = kSuite, .name = std::move(name), .metric = std::move(metric), .value = value,
                .unit = std::move(unit), .target = std::move(target)};
    if (baseline && *baseline > 0) {
      c.baseline_name = std::move(baseline_name);
      c.baseline_value = *baseline;
      c.ratio = lower_is_better ? *baseline / value : value / *baseline;
    }
    report.Add(std::move(c));
  };
  const auto median_or_none = [](const std::vector<double>& values, double scale) -> std::optional<double> {
    if (values.empty()) return std::nullopt;
    return Median(values) * scale;
  };
  const std::string size = fmt::format("{}MiB", options.object_bytes >> 20);
  add("get_" + size + "_cold_3_nodes", "throughput", median_of(&Figures::get_cold) / kGB, "GB/s", "fio_read_1M_qd16",
      median_or_none(fio_read, 1 / kGB), "ratio >= 0.80");
  add("get_" + size + "_again_3_nodes", "throughput", median_of(&Figures::get_again) / kGB, "GB/s",
      "iperf3_loopback", median_or_none(iperf, 1 / kGB), "ratio >= 0.80");
  add("get_" + size + "_tcp_3_nodes", "throughput", median_of(&Figures::get_tcp) / kGB, "GB/s", "iperf3_loopback",
      median_or_none(iperf, 1 / kGB), "report");
  add("put_" + size + "_R1", "throughput", median_of(&Figures::put_r1) / kGB, "GB/s", "fio_write_1M_qd16_new_file",
      median_or_none(fio_write, 1 / kGB), "ratio >= 0.70");
  add("put_" + size + "_R1_vs_overwrite", "throughput", median_of(&Figures::put_r1) / kGB, "GB/s",
      "fio_overwrite_1M_qd16", median_or_none(fio_overwrite, 1 / kGB), "report");
  add("put_" + size + "_R1_tcp", "throughput", median_of(&Figures::put_r1_tcp) / kGB, "GB/s",
      "fio_write_1M_qd16_new_file", median_or_none(fio_write, 1 / kGB), "report");
  add("put_" + size + "_R3", "throughput", median_of(&Figures::put_r3) / kGB, "GB/s", "fio_write_1M_qd16_new_file/3",
      median_or_none(fio_write, 1 / kGB / 3), "ratio >= 0.70");
  add("put_" + size + "_R3_vs_overwrite", "throughput", median_of(&Figures::put_r3) / kGB, "GB/s",
      "fio_overwrite_1M_qd16/3", median_or_none(fio_overwrite, 1 / kGB / 3), "report");
  add(fmt::format("put_0B_{}_inflight", options.in_flight), "throughput", median_of(&Figures::empty_puts), "ops/s", "",
      std::nullopt, ">= 20000 ops/s");
  add(fmt::format("head_{}_inflight", options.in_flight), "throughput", median_of(&Figures::heads), "ops/s", "",
      std::nullopt, ">= 100000 ops/s");
  add(fmt::format("list_{}_objects_1000_per_page", listed), "total_time", list_seconds, "s", "", std::nullopt, "<= 3 s");
  add("put_0B_p50_at_1e3_objects", "p50_latency", put_p50_small, "us", "", std::nullopt, "report");
  add(fmt::format("put_0B_p50_at_{}_objects", options.list_objects), "p50_latency", put_p50_large, "us",
      "put_0B_p50_at_1e3_objects", put_p50_small, "flat: ratio >= 0.8", true);
  add("head_p50_at_1e3_objects", "p50_latency", head_p50_small, "us", "", std::nullopt, "report");
  add(fmt::format("head_p50_at_{}_objects", options.list_objects), "p50_latency", head_p50_large, "us",
      "head_p50_at_1e3_objects", head_p50_small, "flat: ratio >= 0.8", true);
  add("meta_resident_per_million_objects", "memory", resident_per_million / 1e6, "MB", "", std::nullopt, "<= 200 MB");
  return report;
}

}  // namespace cerulean::bench
