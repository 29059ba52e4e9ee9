#include "cli/object_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cerulean/client.h"
#include "cli/remote_commands.h"
#include "meta/meta_messages.h"
#include "rpc/rpc_client.h"
#include "runtime/uring/shard_set.h"

namespace cerulean::cli {
namespace {

constexpr std::string_view kRemoteScheme = "cerulean://";

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 2;
    case StatusCode::kNotFound: return 3;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 4;
    default: return 1;
  }
}

int Fail(std::string_view command, const Status& status) {
  fmt::print(stderr, "cerulean {}: {}\n", command, status.ToString());
  return ExitCodeFor(status);
}

// On error, prints it and returns its exit code from the command.
#define ASSIGN_OR_RETURN_EXIT(lhs, expr, command)                                                   \
  auto CERULEAN_CONCAT(_result_, __LINE__) = (expr);                                                \
  if (!CERULEAN_CONCAT(_result_, __LINE__).ok()) return Fail(command, CERULEAN_CONCAT(_result_, __LINE__).status()); \
  lhs = std::move(CERULEAN_CONCAT(_result_, __LINE__)).value()

struct RemotePath {
  std::string container;
  std::string name;
};

// CONTAINER/NAME (NAME may hold more slashes).
Result<RemotePath> ParseRemote(std::string_view path, bool name_required) {
  if (path.starts_with(kRemoteScheme)) path.remove_prefix(kRemoteScheme.size());
  const size_t slash = path.find('/');
  RemotePath remote;
  remote.container = std::string(path.substr(0, slash));
  if (slash != std::string_view::npos) remote.name = std::string(path.substr(slash + 1));
  if (remote.container.empty()) return Status::InvalidArgument(fmt::format("'{}' names no container", path));
  if (name_required && remote.name.empty()) {
    return Status::InvalidArgument(fmt::format("'{}' names no object: use CONTAINER/NAME", path));
  }
  return remote;
}

Result<std::unique_ptr<Client>> OpenClient(const ObjectCommandOptions& options) {
  ClientOptions client_options;
  client_options.meta_address = options.meta_address;
  client_options.replicas = static_cast<uint8_t>(options.replicas);
  client_options.timeout = std::chrono::milliseconds(10'000);
  return Client::Open(client_options);
}

std::string Iso8601(int64_t unix_ns) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// `pieces` only from stat: listings do not carry piece lists.
nlohmann::json ObjectJson(const ObjectInfo& info, bool with_pieces) {
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [key, value] : info.metadata) metadata[key] = value;
  nlohmann::json json = {{"container", info.container}, {"name", info.name},       {"size", info.size},
                         {"etag", info.etag},           {"content_type", info.content_type},
                         {"created", Iso8601(info.created_unix_ns)}, {"modified", Iso8601(info.modified_unix_ns)},
                         {"crc32c", fmt::format("{:08x}", info.crc32c)}, {"metadata", metadata}};
  if (with_pieces) json["pieces"] = info.pieces;
  return json;
}

// A one-line progress bar on stderr, shown only on a terminal and only once a transfer has run
// for a second.
class Progress {
 public:
  Progress(bool enabled, uint64_t total)
      : enabled_(enabled && isatty(STDERR_FILENO) == 1), total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Progress() {
    if (shown_) fmt::print(stderr, "\n");
  }
  void Update(uint64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - start_).count();
    if (seconds < 1.0 || now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    shown_ = true;
    const double rate = static_cast<double>(done) / seconds;
    if (total_ > 0) {
      const int width = 30;
      const int filled = static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total_));
      fmt::print(stderr, "\r[{}{}] {:3.0f}% {} / {} {}/s   ", std::string(filled, '#'), std::string(width - filled, ' '),
                 100.0 * static_cast<double>(done) / static_cast<double>(total_), HumanBytes(done), HumanBytes(total_),
                 HumanBytes(static_cast<uint64_t>(rate)));
    } else {
      fmt::print(stderr, "\r{} {}/s   ", HumanBytes(done), HumanBytes(static_cast<uint64_t>(rate)));
    }
  }

 private:
  bool enabled_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool shown_ = false;
};

PutOptions PutOptionsFor(const ObjectCommandOptions& options) {
  PutOptions put;
  if (!options.content_type.empty()) put.content_type = options.content_type;
  return put;
}

// Reads an object as a stream, window by window, pinned to one version by its ETag.
class ObjectReadBuffer : public std::streambuf {
 public:
  ObjectReadBuffer(Client& client, RemotePath path, std::string etag, uint64_t size)
      : client_(client), path_(std::move(path)), size_(size), buffer_(std::min<uint64_t>(size, 8 << 20)) {
    conditions_.if_match = std::move(etag);
  }
  Status status() const { return status_; }

 protected:
  int_type underflow() override {
    if (offset_ >= size_ || !status_.ok()) return traits_type::eof();
    auto got = client_.GetRange(path_.container, path_.name, offset_, std::as_writable_bytes(std::span(buffer_)),
                                conditions_);
    if (!got.ok() || *got == 0) {
      status_ = got.ok() ? Status::DataLoss("the object ended early") : got.status();
      return traits_type::eof();
    }
    offset_ += *got;
    setg(buffer_.data(), buffer_.data(), buffer_.data() + *got);
    return traits_type::to_int_type(buffer_[0]);
  }

 private:
  Client& client_;
  RemotePath path_;
  ReadConditions conditions_;
  uint64_t size_;
  uint64_t offset_ = 0;
  std::vector<char> buffer_;
  Status status_;
};

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    unit++;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, kUnits[unit]);
}

int RunMakeContainer(const ObjectCommandOptions& options, const std::string& container) {
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "mb");
  Status status = client->CreateContainer(container);
  if (!status.ok()) return Fail("mb", status);
  fmt::print("created {}\n", container);
  return 0;
}

int RunRemoveContainer(const ObjectCommandOptions& options, const std::string& container) {
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "rb");
  Status status = client->DeleteContainer(container);
  if (!status.ok()) return Fail("rb", status);
  fmt::print("removed {}\n", container);
  return 0;
}

int RunList(const ObjectCommandOptions& options, const std::string& path) {
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "ls");
  if (path.empty()) {
    auto containers = client->ListContainers();
    if (!containers.ok()) return Fail("ls", containers.status());
    nlohmann::json json = nlohmann::json::array();
    for (const ContainerInfo& container : *containers) {
      if (options.json) {
        json.push_back({{"name", container.name}, {"created", Iso8601(container.created_unix_ns)},
                        {"public_read", container.public_read}});
      } else {
        fmt::print("{}  {}/\n", Iso8601(container.created_unix_ns), container.name);
      }
    }
    if (options.json) fmt::print("{}\n", json.dump());
    return 0;
  }
  ASSIGN_OR_RETURN_EXIT(RemotePath remote, ParseRemote(path, false), "ls");
  ListOptions list;
  list.prefix = remote.name;
  if (!options.recursive) list.delimiter.push_back('/');  // (assigning "/" trips a g++ 12 -Wrestrict false positive)
  nlohmann::json json = nlohmann::json::array();
  while (true) {
    auto page = client->ListPage(remote.container, list);
    if (!page.ok()) return Fail("ls", page.status());
    for (const std::string& prefix : page->common_prefixes) {
      if (options.json) json.push_back({{"prefix", prefix}});
      else fmt::print("{:>20}  {:>10}  {}/{}\n", "", "DIR", remote.container, prefix);
    }
    for (const ObjectInfo& object : page->objects) {
      if (options.json) json.push_back(ObjectJson(object, false));
      else fmt::print("{}  {:>10}  {}/{}\n", Iso8601(object.modified_unix_ns), HumanBytes(object.size), remote.container, object.name);
    }
    if (!page->truncated) break;
    list.start_after = page->next_start_after;
  }
  if (options.json) fmt::print("{}\n", json.dump());
  return 0;
}

int RunPut(const ObjectCommandOptions& options, const std::string& local, const std::string& remote_path) {
  ASSIGN_OR_RETURN_EXIT(RemotePath remote, ParseRemote(remote_path, true), "put");
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "put");
  std::ifstream file;
  std::istream* in = &std::cin;
  uint64_t total = 0;
  if (local != "-") {
    file.open(local, std::ios::binary);
    if (!file) return Fail("put", Status::NotFound(fmt::format("cannot open '{}'", local)));
    file.seekg(0, std::ios::end);
    total = static_cast<uint64_t>(file.tellg());
    file.seekg(0);
    in = &file;
  }
  Progress progress(options.progress, total);
  const auto start = std::chrono::steady_clock::now();
  auto put = client->PutStream(remote.container, remote.name, *in, PutOptionsFor(options),
                               [&](uint64_t done) { progress.Update(done); });
  if (!put.ok()) return Fail("put", put.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("put {}/{} {} in {:.2f} s etag {}\n", remote.container, remote.name, HumanBytes(put->size), seconds, put->etag);
  return 0;
}

int RunGet(const ObjectCommandOptions& options, const std::string& remote_path, const std::string& local_path) {
  ASSIGN_OR_RETURN_EXIT(RemotePath remote, ParseRemote(remote_path, true), "get");
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "get");
  std::string local = local_path;
  if (local.empty()) {
    const size_t slash = remote.name.rfind('/');
    local = slash == std::string::npos ? remote.name : remote.name.substr(slash + 1);
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  const std::string temporary = local + ".cerulean-partial";
  if (local != "-") {
    file.open(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return Fail("get", Status::Unavailable(fmt::format("cannot write '{}'", temporary)));
    out = &file;
  }
  std::optional<Progress> progress;
  auto got = client->GetToStream(remote.container, remote.name, *out, [&](uint64_t done, uint64_t total) {
    if (!progress) progress.emplace(options.progress && local != "-", total);
    progress->Update(done);
  });
  if (got.ok() && local != "-") {
    file.close();
    if (!file) got = Status::Unavailable(fmt::format("writing '{}' failed", temporary));
  }
  if (!got.ok()) {
    if (local != "-") std::remove(temporary.c_str());
    return Fail("get", got.status());
  }
  // Renamed into place only when whole: a failed get never leaves a truncated file by the name.
  if (local != "-" && std::rename(temporary.c_str(), local.c_str()) != 0) {
    return Fail("get", Status::Unavailable(fmt::format("cannot rename into '{}'", local)));
  }
  progress.reset();
  if (local != "-") fmt::print("got {}/{} {} into {}\n", remote.container, remote.name, HumanBytes(got->size), local);
  return 0;
}

int RunRemove(const ObjectCommandOptions& options, const std::string& remote_path) {
  ASSIGN_OR_RETURN_EXIT(RemotePath remote, ParseRemote(remote_path, true), "rm");
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "rm");
  Status status = client->Delete(remote.container, remote.name);
  if (!status.ok()) return Fail("rm", status);
  fmt::print("removed {}/{}\n", remote.container, remote.name);
  return 0;
}

int RunStat(const ObjectCommandOptions& options, const std::string& remote_path) {
  ASSIGN_OR_RETURN_EXIT(RemotePath remote, ParseRemote(remote_path, true), "stat");
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "stat");
  auto head = client->Head(remote.container, remote.name);
  if (!head.ok()) return Fail("stat", head.status());
  if (options.json) {
    fmt::print("{}\n", ObjectJson(*head, true).dump());
    return 0;
  }
  fmt::print("object:        {}/{}\nsize:          {} ({} bytes)\netag:          {}\ncontent type:  {}\n"
             "created:       {}\nmodified:      {}\ncrc32c:        {:08x}\npieces:        {}\n",
             remote.container, remote.name, HumanBytes(head->size), head->size, head->etag, head->content_type,
             Iso8601(head->created_unix_ns), Iso8601(head->modified_unix_ns), head->crc32c, head->pieces);
  for (const auto& [key, value] : head->metadata) fmt::print("metadata:      {}={}\n", key, value);
  return 0;
}

int RunCopy(const ObjectCommandOptions& options, const std::string& from, const std::string& to) {
  const bool from_remote = from.starts_with(kRemoteScheme);
  const bool to_remote = to.starts_with(kRemoteScheme);
  if (!from_remote && !to_remote) {
    return Fail("cp", Status::InvalidArgument("one side must be remote: cerulean://CONTAINER/NAME"));
  }
  if (!from_remote) return RunPut(options, from, to);
  if (!to_remote) return RunGet(options, from, to);
  ASSIGN_OR_RETURN_EXIT(RemotePath source, ParseRemote(from, true), "cp");
  ASSIGN_OR_RETURN_EXIT(RemotePath target, ParseRemote(to, true), "cp");
  ASSIGN_OR_RETURN_EXIT(auto client, OpenClient(options), "cp");
  auto head = client->Head(source.container, source.name);
  if (!head.ok()) return Fail("cp", head.status());
  ObjectReadBuffer buffer(*client, source, head->etag, head->size);
  std::istream in(&buffer);
  PutOptions put_options = PutOptionsFor(options);
  if (options.content_type.empty()) put_options.content_type = head->content_type;
  put_options.metadata = head->metadata;
  Progress progress(options.progress, head->size);
  auto put = client->PutStream(target.container, target.name, in, put_options, [&](uint64_t done) { progress.Update(done); });
  if (!buffer.status().ok()) return Fail("cp", buffer.status());
  if (!put.ok()) return Fail("cp", put.status());
  fmt::print("copied {}/{} to {}/{} ({})\n", source.container, source.name, target.container, target.name,
             HumanBytes(put->size));
  return 0;
}

int RunClusterStatus(const ObjectCommandOptions& options) {
  auto target = NetAddress::Parse(options.meta_address);
  if (!target.ok()) return Fail("cluster status", target.status());
  auto answer = CallOnce(*target, meta::kClusterStatusMethod);
  if (!answer.ok()) return Fail("cluster status", answer.status());
  auto status = meta::DecodeClusterStatusResponse(answer->message.span());
  if (!status.ok()) return Fail("cluster status", status.status());
  size_t down = 0;
  for (const meta::NodeStatus& node : status->nodes) down += node.up ? 0 : 1;
  if (options.json) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const meta::NodeStatus& node : status->nodes) {
      nodes.push_back({{"node_id", node.node_id}, {"address", node.address}, {"up", node.up},
                       {"silent_ms", node.silent_ms}, {"disks", node.disks}, {"capacity_bytes", node.capacity_bytes},
                       {"free_bytes", node.free_bytes}});
    }
    nlohmann::json json = {{"cluster_version", status->cluster_version}, {"default_replicas", status->default_replicas},
                           {"nodes", nodes}, {"nodes_down", down},
                           {"extents", {{"open", status->extents_open}, {"sealing", status->extents_sealing},
                                        {"sealed", status->extents_sealed}, {"abandoned", status->extents_abandoned}}},
                           {"committed_bytes", status->committed_bytes}, {"garbage_bytes", status->garbage_bytes},
                           {"compaction_candidates", status->compaction_candidates}};
    fmt::print("{}\n", json.dump());
    return 0;
  }
  fmt::print("cluster version {}, {} storage nodes ({} down), default replicas {}\n", status->cluster_version,
             status->nodes.size(), down, status->default_replicas);
  fmt::print("{:<24} {:<22} {:<5} {:>5} {:>11} {:>11} {:>9}\n", "NODE", "ADDRESS", "STATE", "DISKS", "CAPACITY",
             "FREE", "SILENT");
  for (const meta::NodeStatus& node : status->nodes) {
    fmt::print("{:<24} {:<22} {:<5} {:>5} {:>11} {:>11} {:>7.1f} s\n", node.node_id, node.address,
               node.up ? "up" : "DOWN", node.disks, HumanBytes(node.capacity_bytes), HumanBytes(node.free_bytes),
               static_cast<double>(node.silent_ms) / 1000);
  }
  fmt::print("extents: {} open, {} sealing, {} sealed, {} abandoned; data {} committed, {} garbage; "
             "{} compaction candidates\n",
             status->extents_open, status->extents_sealing, status->extents_sealed, status->extents_abandoned,
             HumanBytes(status->committed_bytes), HumanBytes(status->garbage_bytes), status->compaction_candidates);
  return down == 0 ? 0 : 1;
}

}  // namespace cerulean::cli
