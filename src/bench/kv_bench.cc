#include "bench/kv_bench.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <regex>
#include <thread>

#include "base/check.h"
#include "bench/socket_baselines.h"
#include "cerulean/kv_client.h"
#include "server/local_cluster.h"

namespace cerulean::bench {
namespace {

constexpr const char* kSuite = "kv";
constexpr double kGB = 1e9;

struct Profile {
  std::string name;
  size_t pieces;
  size_t piece_bytes;
  size_t value_bytes() const { return pieces * piece_bytes; }
};

// Values of a profile, with their put items and get buffers.
struct Values {
  Values(const Profile& profile, size_t count, uint64_t salt) {
    std::mt19937_64 random(salt);
    keys.resize(count);
    for (KvKey& key : keys) {
      for (size_t i = 0; i < 32; i += 8) {
        const uint64_t word = random();
        std::memcpy(key.bytes.data() + i, &word, 8);
      }
    }
    // One source value for all keys (puts copy it), touched so first-touch is not measured.
    source.resize(profile.value_bytes());
    for (size_t i = 0; i < source.size(); i += 8) {
      const uint64_t word = random();
      std::memcpy(source.data() + i, &word, std::min<size_t>(8, source.size() - i));
    }
    for (const KvKey& key : keys) {
      KvPutItem put{.key = key};
      for (size_t p = 0; p < profile.pieces; p++) {
        put.pieces.push_back(std::span<const std::byte>(source).subspan(p * profile.piece_bytes, profile.piece_bytes));
      }
      puts.push_back(std::move(put));
    }
  }
  std::vector<KvKey> keys;
  std::vector<std::byte> source;
  std::vector<KvPutItem> puts;
};

// Get buffers for one batch.
struct Buffers {
  Buffers(const Profile& profile, size_t batch) : memory(profile.value_bytes() * batch, std::byte{1}) {
    for (size_t b = 0; b < batch; b++) {
      KvGetItem item;
      for (size_t p = 0; p < profile.pieces; p++) {
        item.pieces.push_back(std::span<std::byte>(memory).subspan(b * profile.value_bytes() + p * profile.piece_bytes,
                                                                   profile.piece_bytes));
      }
      items.push_back(std::move(item));
    }
  }
  std::vector<std::byte> memory;
  std::vector<KvGetItem> items;
};

struct Timed {
  double bytes_per_second = 0;
  double ops_per_second = 0;
  double p50_us = 0, p99_us = 0;
};

// Batches of gets of random preloaded keys, one after another, for `duration`.
Timed TimeGets(KvClient& kv, const KvNamespace& ns, const Profile& profile, const Values& values, size_t batch,
               Duration duration) {
  Buffers buffers(profile, batch);
  std::mt19937_64 random(7);
  std::vector<double> latencies;
  size_t got = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < duration) {
    for (KvGetItem& item : buffers.items) item.key = values.keys[random() % values.keys.size()];
    const auto before = std::chrono::steady_clock::now();
    auto results = kv.BatchGet(ns, buffers.items);
    latencies.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before).count());
    for (auto& result : results) CHECK(result.ok() && *result) << "kv bench: a preloaded key missed";
    got += batch;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  return {.bytes_per_second = static_cast<double>(got * profile.value_bytes()) / seconds,
          .ops_per_second = static_cast<double>(got) / seconds,
          .p50_us = Percentile(latencies, 50),
          .p99_us = Percentile(latencies, 99)};
}

// Batches of puts of fresh keys for `duration` (or until the keys run out).
Timed TimePuts(KvClient& kv, const KvNamespace& ns, const Profile& profile, const Values& fresh, size_t batch,
               Duration duration) {
  std::vector<double> latencies;
  size_t put = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t at = 0; at + batch <= fresh.puts.size() && std::chrono::steady_clock::now() - start < duration; at += batch) {
    const auto before = std::chrono::steady_clock::now();
    auto results = kv.BatchPut(ns, std::span(fresh.puts).subspan(at, batch));
    latencies.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before).count());
    for (auto& result : results) CHECK(result.ok()) << "kv bench: " << result.status();
    put += batch;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  return {.bytes_per_second = static_cast<double>(put * profile.value_bytes()) / seconds,
          .ops_per_second = static_cast<double>(put) / seconds,
          .p50_us = Percentile(latencies, 50),
          .p99_us = Percentile(latencies, 99)};
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  CHECK(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

// A redis-server with persistence off, for the baseline; stopped on destruction.
class RedisServer {
 public:
  RedisServer() {
    if (std::system("command -v redis-server > /dev/null 2>&1 && command -v redis-benchmark > /dev/null 2>&1") != 0) return;
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ~RedisServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool running() const { return pid_ > 0; }
  // redis-benchmark's GETs per second for values of `bytes`, `pipeline` deep on 16 connections
  // (SET first, so that the GETs hit).
  double GetsPerSecond(size_t bytes, size_t pipeline, size_t requests) const {
    const std::string command = fmt::format("redis-benchmark -p {} -t set,get -d {} -P {} -c 16 -n {} -q 2>/dev/null", port_,
                                            bytes, pipeline, requests);
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return -1;
    std::string output;
    char chunk[4096];
    while (size_t n = fread(chunk, 1, sizeof(chunk), pipe)) output.append(chunk, n);
    pclose(pipe);
    std::smatch match;
    const std::regex gets(R"(GET: ([0-9.]+) requests per second)");
    if (!std::regex_search(output, match, gets)) return -1;
    return std::stod(match[1]);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace

BenchReport RunKvBench(const KvBenchOptions& options) {
  const std::string dir = options.directory;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::vector<Profile> profiles = {
      {"4KiB", 1, 4096}, {"64KiB", 1, 64 << 10}, {"2MiB_64x32KiB", 64, 32 << 10}, {"640KiB_160x4KiB", 160, 4096},
      {"32MiB", 1, 32 << 20}};
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
  // The median, scaled, or nothing when the baseline could not be measured.
  const auto median = [](std::vector<double> values, double scale = 1) -> std::optional<double> {
    if (values.empty()) return std::nullopt;
    return Median(std::move(values)) * scale;
  };

  // The same-run baselines.
  std::vector<double> iperf, ping_p50, redis_4k_p1, redis_4k_p128, redis_64k;
  RedisServer redis;
  for (int repeat = 0; repeat < options.repeats; repeat++) {
    if (double bps = MeasureIperf3(options.duration, 0, 1); bps > 0) iperf.push_back(bps);
    PingPongResult ping = MeasureRawPingPong(64, 1000, 20000, 0, 1);
    ping_p50.push_back(Percentile(ping.latencies_us, 50));
    if (redis.running()) {
      if (double r = redis.GetsPerSecond(4096, 1, 100'000); r > 0) redis_4k_p1.push_back(r);
      if (double r = redis.GetsPerSecond(4096, 128, 1'000'000); r > 0) redis_4k_p128.push_back(r);
      if (double r = redis.GetsPerSecond(64 << 10, 16, 100'000); r > 0) redis_64k.push_back(r * (64 << 10));
    }
  }

  server::LocalCluster cluster({.directory = dir + "/cluster", .storage_nodes = 1, .replicas = 1});
  auto opened = KvClient::Open({.meta_address = cluster.meta_address()});
  CHECK(opened.ok()) << opened.status();
  KvClient& kv = **opened;
  for (const Profile& profile : profiles) {
    auto ns = kv.OpenNamespace({.model = "bench", .dtype = profile.name});
    CHECK(ns.ok()) << ns.status();
    const size_t batch = profile.value_bytes() >= (32u << 20) ? 2 : 16;
    const size_t count = std::max<size_t>(batch * 4, options.working_set_bytes / profile.value_bytes());
    Values values(profile, count, 1);
    for (size_t at = 0; at < count; at += batch) {
      for (auto& result : kv.BatchPut(*ns, std::span(values.puts).subspan(at, std::min(batch, count - at)))) {
        CHECK(result.ok()) << result.status();
      }
    }
    std::vector<double> get_gbs, get_p50, get_p99, put_gbs;
    (void)TimeGets(kv, *ns, profile, values, batch, std::chrono::milliseconds(200));  // warm-up
    for (int repeat = 0; repeat < options.repeats; repeat++) {
      Timed gets = TimeGets(kv, *ns, profile, values, batch, options.duration);
      get_gbs.push_back(gets.bytes_per_second / kGB);
      get_p50.push_back(gets.p50_us);
      get_p99.push_back(gets.p99_us);
      Values fresh(profile, std::max<size_t>(batch * 4, options.working_set_bytes / 4 / profile.value_bytes()),
                   100 + static_cast<uint64_t>(repeat));
      Timed puts = TimePuts(kv, *ns, profile, fresh, batch, options.duration);
      put_gbs.push_back(puts.bytes_per_second / kGB);
    }
    const std::string tag = fmt::format("{}_batch{}", profile.name, batch);
    const std::optional<double> iperf_gbs = median(iperf, 1 / kGB);
    add("get_" + tag, "throughput", *median(get_gbs), "GB/s", "iperf3_loopback", iperf_gbs,
        profile.value_bytes() >= (64u << 10) ? "ratio >= 0.90" : "report");
    add("get_" + tag, "p50_latency", *median(get_p50), "us", "", std::nullopt, "report");
    add("get_" + tag, "p99_latency", *median(get_p99), "us", "", std::nullopt, "report");
    add("put_" + tag, "throughput", *median(put_gbs), "GB/s", "iperf3_loopback", iperf_gbs, "report");
    if (profile.name == "64KiB") {
      add("get_64KiB_batch16_vs_redis", "throughput", *median(get_gbs), "GB/s", "redis_get_64KiB_P16",
          median(redis_64k, 1 / kGB), "ratio >= 1.0");
    }
    if (profile.name == "4KiB") {
      std::vector<double> ops;
      for (int repeat = 0; repeat < options.repeats; repeat++) {
        ops.push_back(TimeGets(kv, *ns, profile, values, 128, options.duration).ops_per_second);
      }
      add("get_4KiB_batch128_vs_redis", "throughput", *median(ops), "ops/s", "redis_get_4KiB_no_pipeline",
          median(redis_4k_p1), "ratio >= 3.0");
      add("get_4KiB_batch128_vs_redis_pipelined", "throughput", *median(ops), "ops/s", "redis_get_4KiB_P128",
          median(redis_4k_p128), "ratio >= 1.2");
      // exists / lookup_prefix of 128 keys, one call at a time.
      std::vector<double> lookups;
      const std::span<const KvKey> keys = std::span(values.keys).first(128);
      for (int i = 0; i < 2000; i++) {
        const auto before = std::chrono::steady_clock::now();
        auto prefix = kv.LookupPrefix(*ns, keys);
        lookups.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before).count());
        CHECK(prefix.ok() && *prefix == 128);
      }
      std::sort(lookups.begin(), lookups.end());
      const std::optional<double> ping = median(ping_p50, 2);
      add("lookup_prefix_128_keys", "p50_latency", Percentile(lookups, 50), "us", "2x_raw_tcp_ping_pong_p50",
          ping, "ratio >= 1.0", true);
    }
    auto stats = kv.Stats();
    if (stats.ok() && stats->entries > 0 && profile.name == "4KiB") {
      add("index_bytes_per_entry_4KiB", "memory", static_cast<double>(stats->index_bytes) / static_cast<double>(stats->entries),
          "B", "", std::nullopt, "<= 64");
    }
    (void)kv.Remove(*ns, values.keys);
  }
  opened->reset();
  std::filesystem::remove_all(dir);
  return report;
}

}  // namespace cerulean::bench
