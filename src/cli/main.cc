// The cerulean binary: `server`, the object commands (mb, rb, ls, put, get, rm, stat, cp),
// `cluster status`, `version`, `health` and `bench`.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <optional>

#include "base/logging.h"
#include "bench/kv_bench.h"
#include "bench/objects_bench.h"
#include "bench/rpc_bench.h"
#include "bench/storage_bench.h"
#include "cli/object_commands.h"
#include "cli/remote_commands.h"
#include "cli/server_command.h"
#include "cli/version.h"
#include "rpc/frame.h"

namespace cerulean::cli {
namespace {

// Parses "host:port" for a flag, or exits with a clear message.
NetAddress ParseAddressOrExit(const std::string& flag, const std::string& text) {
  auto address = NetAddress::Parse(text);
  if (!address.ok()) {
    fmt::print(stderr, "{}: {}\n", flag, address.status().message());
    std::exit(2);
  }
  return *address;
}

int Main(int argc, char** argv) {
  CLI::App app{"Cerulean: distributed storage for AI workloads"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(kVersion) + " (" + kBuild + ")");

  ServerConfig config;
  std::string config_path;
  auto* server = app.add_subcommand("server", "Run a server (all-in-one by default)");
  server->add_option("--config", config_path, "JSON config file; flags override it");
  server->add_option("--host", config.host, "Address to bind")->capture_default_str();
  server->add_option("--rpc-port", config.rpc_port, "Native rpc port (0 = any free port)")->capture_default_str();
  server->add_option("--resp-port", config.resp_port,
                     "Redis protocol (KV cache) port; default 6379 for all-in-one, none for storage; 0 any free port, -1 none")
      ->check(CLI::Range(-1, 65535));
  server->add_option("--s3-port", config.s3_port,
                     "S3 gateway port; default 9000 for all-in-one, none otherwise; 0 any free port, -1 none")
      ->check(CLI::Range(-1, 65535));
  server->add_option("--azure-port", config.azure_port,
                     "Azure Blob gateway port; default 10000 for all-in-one, none otherwise; 0 any free port, -1 none")
      ->check(CLI::Range(-1, 65535));
  server->add_option("--tls-cert", config.tls_certificate, "PEM certificate chain: the gateways speak HTTPS (with --tls-key)");
  server->add_option("--tls-key", config.tls_key, "PEM private key of --tls-cert");
  server->add_option("--data", config.data_directory, "Data directory")->capture_default_str();
  server->add_option("--shards", config.shards, "Event-loop shards (threads)")->capture_default_str()->check(CLI::Range(1, 256));
  server->add_option("--poll-us", config.poll_us, "Microseconds an idle shard polls for work before sleeping (0: sleep at once)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  server->add_option("--log-level", config.log_level, "trace, debug, info, warn, error")->capture_default_str();
  server->add_option("--role", config.role, "all-in-one (meta and one storage node), meta, or storage")
      ->capture_default_str()
      ->check(CLI::IsMember({"all-in-one", "meta", "storage"}));
  server->add_option("--meta", config.meta_address, "Storage role: meta's host:port");
  server->add_option("--replicas", config.replicas, "Meta: replicas of new extents")->capture_default_str()->check(CLI::Range(1, 3));
  server->add_option("--kv-dram-mib", config.kv_dram_mib, "Storage: the KV cache's DRAM tier")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{64}, uint64_t{1} << 24));
  server->add_option("--read-cache-mib", config.read_cache_mib,
                     "Storage: memory for verified bytes of hot records up to 1 MiB, served without a disk read (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 24));
  server->add_option("--kv-ssd-mib", config.kv_ssd_mib, "Storage: the KV cache's SSD tier (0: none)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            const uint64_t mib = std::strtoull(text.c_str(), nullptr, 10);
            return mib == 0 || (mib >= 128 && mib <= (uint64_t{1} << 30)) ? "" : "0, or MiB from 128 to 1073741824";
          },
          "0 or 128..1073741824"));
  server->add_option("--down-after-ms", config.down_after_ms, "Meta: silence after which a storage node is down")
      ->capture_default_str()
      ->check(CLI::Range(100, 3'600'000));

  // The object commands: remote paths are CONTAINER/NAME.
  ObjectCommandOptions object_options;
  if (const char* meta = std::getenv("CERULEAN_META")) object_options.meta_address = meta;
  std::string first_path;
  std::string second_path;
  const auto add_object_command = [&](const char* name, const char* help) {
    auto* command = app.add_subcommand(name, help);
    command->add_option("--meta", object_options.meta_address, "Meta's host:port (or $CERULEAN_META)")->capture_default_str();
    return command;
  };
  auto* mb = add_object_command("mb", "Make a container");
  mb->add_option("container", first_path, "Container name")->required();
  auto* rb = add_object_command("rb", "Remove an empty container");
  rb->add_option("container", first_path, "Container name")->required();
  auto* ls = add_object_command("ls", "List containers, or objects under CONTAINER[/PREFIX]");
  ls->add_option("path", first_path, "CONTAINER[/PREFIX]; none lists the containers");
  ls->add_flag("--json", object_options.json, "Print JSON");
  ls->add_flag("-r,--recursive", object_options.recursive, "List every object under the prefix, not one level");
  auto* put = add_object_command("put", "Upload a local file (or - for stdin) to CONTAINER/NAME");
  put->add_option("file", first_path, "Local file, or -")->required();
  put->add_option("object", second_path, "CONTAINER/NAME")->required();
  put->add_option("--content-type", object_options.content_type, "Content type to store");
  put->add_option("--replicas", object_options.replicas, "Replicas (default: the cluster's)")->check(CLI::Range(0, 3));
  put->add_flag("!--no-progress", object_options.progress, "No progress bar");
  auto* get = add_object_command("get", "Download CONTAINER/NAME to a local file (or - for stdout)");
  get->add_option("object", first_path, "CONTAINER/NAME")->required();
  get->add_option("file", second_path, "Local file, or - (default: the name's last part)");
  get->add_flag("!--no-progress", object_options.progress, "No progress bar");
  auto* rm = add_object_command("rm", "Remove CONTAINER/NAME");
  rm->add_option("object", first_path, "CONTAINER/NAME")->required();
  auto* stat = add_object_command("stat", "Show an object's properties");
  stat->add_option("object", first_path, "CONTAINER/NAME")->required();
  stat->add_flag("--json", object_options.json, "Print JSON");
  auto* cp = add_object_command("cp", "Copy between local files and cerulean://CONTAINER/NAME, or between objects");
  cp->add_option("from", first_path, "Source")->required();
  cp->add_option("to", second_path, "Destination")->required();
  cp->add_option("--content-type", object_options.content_type, "Content type to store");
  cp->add_flag("!--no-progress", object_options.progress, "No progress bar");
  auto* cluster = app.add_subcommand("cluster", "The cluster");
  cluster->require_subcommand(1);
  auto* cluster_status = cluster->add_subcommand("status", "Nodes, disks, capacity, extents; exit 1 if a node is down");
  cluster_status->add_option("--meta", object_options.meta_address, "Meta's host:port (or $CERULEAN_META)")->capture_default_str();
  cluster_status->add_flag("--json", object_options.json, "Print JSON");

  std::string target;
  auto* version = app.add_subcommand("version", "Print this build's version, or a server's");
  version->add_option("--target", target, "host:port of a server to ask");

  auto* health = app.add_subcommand("health", "Ask a server whether it is serving");
  health->add_option("--target", target, "host:port of the server")->required();

  auto* bench = app.add_subcommand("bench", "Run a benchmark suite");
  bench->require_subcommand(1);
  bench::RpcBenchOptions rpc_options;
  bool json = false;
  int duration_ms = 2000;
  auto* bench_rpc = bench->add_subcommand("rpc", "Native rpc against raw sockets and iperf3");
  bench_rpc->add_option("--target", target, "host:port of a running server (default: start one)");
  bench_rpc->add_flag("--json", json, "Print one JSON array");
  bench_rpc->add_option("--repeats", rpc_options.repeats, "Runs per figure (the median is reported)")->capture_default_str()->check(CLI::Range(1, 100));
  bench_rpc->add_option("--duration-ms", duration_ms, "Length of each throughput run")->capture_default_str()->check(CLI::Range(100, 600000));
  bench_rpc->add_option("--round-trips", rpc_options.latency_round_trips, "Round trips per latency run")->capture_default_str()->check(CLI::Range(100, 10000000));

  bench::StorageBenchOptions storage_options;
  bench::ObjectsBenchOptions objects_options;
  uint64_t object_mib = objects_options.object_bytes >> 20;
  auto* bench_objects = bench->add_subcommand("objects", "Objects through the native client on a local 3-node cluster");
  bench_objects->add_flag("--json", json, "Print one JSON array");
  bench_objects->add_option("--repeats", objects_options.repeats, "Runs per figure (the median is reported)")->capture_default_str()->check(CLI::Range(1, 100));
  bench_objects->add_option("--duration-ms", duration_ms, "Length of each timed rate and fio run")->capture_default_str()->check(CLI::Range(100, 600000));
  bench_objects->add_option("--directory", objects_options.directory, "Where the data goes (removed after)")->capture_default_str();
  bench_objects->add_option("--object-mib", object_mib, "Size of the large PUT and GET")->capture_default_str()->check(CLI::Range(1, 65536));
  bench_objects->add_option("--list-objects", objects_options.list_objects, "Objects preloaded for LIST and the scaling figures")
      ->capture_default_str()
      ->check(CLI::Range(2000, 100'000'000));
  std::optional<uint64_t> objects_read_cache_mib;
  bench_objects->add_option("--read-cache-mib", objects_read_cache_mib,
                            "Each storage node's read cache (default: room for the whole object; 0: none)")
      ->check(CLI::Range(0, 1 << 20));
  bench::KvBenchOptions kv_options;
  uint64_t working_set_mib = kv_options.working_set_bytes >> 20;
  auto* bench_kv =
      bench->add_subcommand("kv", "The KV cache through the native KV client against iperf3, TCP ping-pong, Redis and memcached");
  bench_kv->add_flag("--json", json, "Print one JSON array");
  bench_kv->add_option("--repeats", kv_options.repeats, "Runs per figure (the median is reported)")->capture_default_str()->check(CLI::Range(1, 100));
  bench_kv->add_option("--duration-ms", duration_ms, "Length of each timed run")->capture_default_str()->check(CLI::Range(100, 600000));
  bench_kv->add_option("--directory", kv_options.directory, "Where the cluster's files go (removed after)")->capture_default_str();
  bench_kv->add_option("--working-set-mib", working_set_mib, "Values preloaded per profile")->capture_default_str()->check(CLI::Range(16, 65536));
  bench_kv->add_option("--profile", kv_options.profiles,
                       "Value profiles to run (4KiB, 64KiB, 2MiB_64x32KiB, 640KiB_160x4KiB, 32MiB); default all");
  bool no_trace = false;
  bench_kv->add_flag("--no-trace", no_trace, "Skip the trace-like mix with an SSD tier");
  auto* bench_storage = bench->add_subcommand("storage", "Storage node through rpc against fio on the same disk");
  bench_storage->add_flag("--json", json, "Print one JSON array");
  bench_storage->add_option("--repeats", storage_options.repeats, "Runs per figure (the median is reported)")->capture_default_str()->check(CLI::Range(1, 100));
  bench_storage->add_option("--duration-ms", duration_ms, "Length of each timed run")->capture_default_str()->check(CLI::Range(100, 600000));
  bench_storage->add_option("--directory", storage_options.directory, "Where the data goes (removed after)")->capture_default_str();
  bench_storage->add_option("--server-core", storage_options.server_core,
                            "CPU of the head node (default: the one taking the disk's interrupts)")->check(CLI::NonNegativeNumber);
  bench_storage->add_option("--client-core", storage_options.client_core, "CPU of the client (default: the next one)")
      ->check(CLI::NonNegativeNumber);
  uint64_t dataset_mib = storage_options.read_dataset_bytes >> 20;
  bench_storage->add_option("--dataset-mib", dataset_mib, "MiB of 4 KiB records to read back")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));

  CLI11_PARSE(app, argc, argv);

  if (server->parsed()) {
    if (!config_path.empty()) {
      // Re-parse so that flags given on the command line win over the file.
      auto loaded = LoadServerConfig(config_path, ServerConfig{});
      if (!loaded.ok()) {
        fmt::print(stderr, "cerulean server: {}\n", loaded.status().ToString());
        return 2;
      }
      ServerConfig from_file = *loaded;
      if (server->count("--host") == 0) config.host = from_file.host;
      if (server->count("--rpc-port") == 0) config.rpc_port = from_file.rpc_port;
      if (server->count("--resp-port") == 0) config.resp_port = from_file.resp_port;
      if (server->count("--s3-port") == 0) config.s3_port = from_file.s3_port;
      if (server->count("--azure-port") == 0) config.azure_port = from_file.azure_port;
      if (server->count("--tls-cert") == 0) config.tls_certificate = from_file.tls_certificate;
      if (server->count("--tls-key") == 0) config.tls_key = from_file.tls_key;
      if (server->count("--data") == 0) config.data_directory = from_file.data_directory;
      if (server->count("--shards") == 0) config.shards = from_file.shards;
      if (server->count("--poll-us") == 0) config.poll_us = from_file.poll_us;
      if (server->count("--log-level") == 0) config.log_level = from_file.log_level;
      if (server->count("--role") == 0) config.role = from_file.role;
      if (server->count("--meta") == 0) config.meta_address = from_file.meta_address;
      if (server->count("--replicas") == 0) config.replicas = from_file.replicas;
      if (server->count("--down-after-ms") == 0) config.down_after_ms = from_file.down_after_ms;
      if (server->count("--kv-dram-mib") == 0) config.kv_dram_mib = from_file.kv_dram_mib;
      if (server->count("--kv-ssd-mib") == 0) config.kv_ssd_mib = from_file.kv_ssd_mib;
      if (server->count("--read-cache-mib") == 0) config.read_cache_mib = from_file.read_cache_mib;
    }
    return RunServer(config);
  }
  if (mb->parsed() || rb->parsed() || ls->parsed() || put->parsed() || get->parsed() || rm->parsed() ||
      stat->parsed() || cp->parsed() || cluster_status->parsed()) {
    InitLogging("warn");
  }
  if (mb->parsed()) return RunMakeContainer(object_options, first_path);
  if (rb->parsed()) return RunRemoveContainer(object_options, first_path);
  if (ls->parsed()) return RunList(object_options, first_path);
  if (put->parsed()) return RunPut(object_options, first_path, second_path);
  if (get->parsed()) return RunGet(object_options, first_path, second_path);
  if (rm->parsed()) return RunRemove(object_options, first_path);
  if (stat->parsed()) return RunStat(object_options, first_path);
  if (cp->parsed()) return RunCopy(object_options, first_path, second_path);
  if (cluster_status->parsed()) return RunClusterStatus(object_options);
  if (version->parsed()) {
    if (!target.empty()) return RunRemoteVersion(ParseAddressOrExit("--target", target));
    fmt::print("cerulean {} ({}) protocol {}\n", kVersion, kBuild, rpc::kProtocolVersion);
    return 0;
  }
  if (health->parsed()) return RunHealth(ParseAddressOrExit("--target", target));
  if (bench_objects->parsed()) {
    InitLogging("warn");
    objects_options.duration = std::chrono::milliseconds(duration_ms);
    objects_options.object_bytes = object_mib << 20;
    if (objects_read_cache_mib) objects_options.read_cache_bytes = *objects_read_cache_mib << 20;
    const bench::BenchReport report = bench::RunObjectsBench(objects_options);
    fmt::print("{}\n", json ? report.ToJson() : report.ToTable());
    return 0;
  }
  if (bench_kv->parsed()) {
    InitLogging("warn");
    kv_options.duration = std::chrono::milliseconds(duration_ms);
    kv_options.working_set_bytes = working_set_mib << 20;
    kv_options.trace = !no_trace;
    const bench::BenchReport report = bench::RunKvBench(kv_options);
    fmt::print("{}\n", json ? report.ToJson() : report.ToTable());
    return 0;
  }
  if (bench_storage->parsed()) {
    InitLogging("warn");
    storage_options.duration = std::chrono::milliseconds(duration_ms);
    storage_options.read_dataset_bytes = dataset_mib << 20;
    const bench::BenchReport report = bench::RunStorageBench(storage_options);
    fmt::print("{}\n", json ? report.ToJson() : report.ToTable());
    return 0;
  }
  if (bench_rpc->parsed()) {
    InitLogging("warn");
    if (!target.empty()) rpc_options.target = ParseAddressOrExit("--target", target);
    rpc_options.throughput_duration = std::chrono::milliseconds(duration_ms);
    const bench::BenchReport report = bench::RunRpcBench(rpc_options);
    fmt::print("{}\n", json ? report.ToJson() : report.ToTable());
    return 0;
  }
  return 2;
}

}  // namespace
}  // namespace cerulean::cli

int main(int argc, char** argv) { return cerulean::cli::Main(argc, argv); }
