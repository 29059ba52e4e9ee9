#include "server/server_node.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/logging.h"
#include "meta/meta_messages.h"
#include "meta/meta_service.h"
#include "rpc/bench_service.h"
#include "rpc/system_service.h"
#include "runtime/sleep.h"
#include "storage/storage_service.h"

namespace cerulean::server {

Result<std::string> LoadOrCreateNodeId(const std::string& directory, uint64_t random) {
  const std::string path = directory + "/node_id";
  std::ifstream in(path);
  if (in) {
    std::string id;
    std::getline(in, id);
    if (id.empty() || id.size() > 64) return Status::DataLoss(fmt::format("{} holds no valid node id", path));
    return id;
  }
  // Written whole and synced, then renamed into place and the directory synced: a crash leaves
  // either no id (a new one is made) or this one, never an empty file.
  const std::string id = fmt::format("node-{:016x}", random);
  const std::string temporary = path + ".tmp";
  const std::string line = id + "\n";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Unavailable(fmt::format("cannot create {}: {}", temporary, std::strerror(errno)));
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Status::Unavailable(fmt::format("cannot write {}", temporary));
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return Status::Unavailable(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd >= 0) {
    ::fsync(directory_fd);
    ::close(directory_fd);
  }
  return id;
}

ServerNode::ServerNode(Env& env, const ServerNodeOptions& options) : env_(env), options_(options) {}

ServerNode::~ServerNode() = default;

Task<Result<std::unique_ptr<ServerNode>>> ServerNode::Start(Env& env, const ServerNodeOptions& options) {
  const std::string& role = options.role;
  if (role != "all-in-one" && role != "meta" && role != "storage") {
    co_return Status::InvalidArgument(fmt::format("unknown role '{}': all-in-one, meta or storage", role));
  }
  if (!options.meta_address.empty()) {
    CO_RETURN_IF_ERROR(NetAddress::Parse(options.meta_address).status());
  }
  // A storage node tells meta (and so every client) the address it listens on.
  if (role != "meta" && (options.listen.host == "0.0.0.0" || options.listen.host == "::")) {
    co_return Status::InvalidArgument(fmt::format(
        "role {} stores data, and clients dial the address it listens on: bind a routable address, not {}", role,
        options.listen.host));
  }
  std::unique_ptr<ServerNode> node(new ServerNode(env, options));
  Status started = co_await node->StartRoles();
  if (!started.ok()) {
    co_await node->Stop();  // whatever did start: its tasks must end before the node goes
    co_return started;
  }
  co_return std::move(node);
}

Task<Status> ServerNode::StartRoles() {
  const std::string& role = options_.role;
  CO_RETURN_IF_ERROR(env_.CreateDirectories(options_.data_directory));
  rpc::RegisterSystemService(registry_, {.role = role, .version = options_.version, .build = options_.build,
                                         .started = env_.Now(), .serving = &serving_});
  rpc::RegisterBenchService(registry_);
  peers_ = std::make_unique<rpc::RpcClient>(env_);
  if (role != "storage") {
    meta::MetaOptions meta_options;
    meta_options.directory = options_.data_directory;
    if (role != "meta") meta_options.directory += "/meta";
    meta_options.default_replicas = options_.replicas;
    meta_options.cluster.down_after = options_.down_after;
    auto opened = co_await meta::MetaNode::Open(env_, meta_options, *peers_);
    if (!opened.ok()) co_return opened.status();
    meta_ = std::move(*opened);
    meta::RegisterMetaService(registry_, *meta_);
  }
  if (role != "meta") {
    // A named local: g++ 12 frees a temporary made by ?: inside a co_await expression twice.
    const std::string storage_directory =
        role == "storage" ? options_.data_directory : options_.data_directory + "/storage";
    CO_RETURN_IF_ERROR(co_await StartStorage(storage_directory));
  }
  server_ = std::make_unique<rpc::RpcServer>(env_, registry_);
  CO_RETURN_IF_ERROR(server_->Listen(options_.listen));
  tasks_ = std::make_unique<TaskGroup>(env_);
  tasks_->Spawn(server_->Serve());
  if (role == "storage" && options_.meta_address.empty()) {
    LOG_WARN("storage node {}: no meta address; serving chains configured by hand, registering nowhere", node_id_);
  } else if (store_ != nullptr) {
    // The first report before serving puts: an all-in-one server can take one at once.
    Status reported = co_await SendReport();
    if (!reported.ok()) LOG_WARN("storage node {}: first report to meta failed: {}", node_id_, reported.ToString());
    tasks_->Spawn(HeartbeatLoop());
  }
  co_return Status::Ok();
}

Task<Status> ServerNode::StartStorage(const std::string& directory) {
  storage_directory_ = directory;
  CO_RETURN_IF_ERROR(env_.CreateDirectories(directory));
  CO_ASSIGN_OR_RETURN(node_id_, LoadOrCreateNodeId(directory, env_.Random()));
  auto opened = co_await storage::ExtentStore::Open(env_, directory, options_.store);
  if (!opened.ok()) co_return opened.status();
  store_ = std::move(*opened);
  storage::RegisterStorageService(registry_, *store_, *peers_, shared_regions_);
  std::unique_ptr<kv::SsdTier> ssd;
  if (options_.kv_ssd.capacity_bytes != 0) {
    kv::SsdTierOptions ssd_options = options_.kv_ssd;
    ssd_options.directory = directory + "/kv-ssd";
    auto opened_ssd = co_await kv::SsdTier::Open(env_, ssd_options);
    if (!opened_ssd.ok()) co_return opened_ssd.status();
    ssd = std::move(*opened_ssd);
  }
  auto kv_store = kv::KvStore::Create(env_, options_.kv, std::move(ssd));
  if (!kv_store.ok()) co_return kv_store.status();
  kv_store_ = std::move(*kv_store);
  kv::NamespaceLookup lookup;
  if (meta_ != nullptr || !options_.meta_address.empty()) {
    lookup = [this](uint32_t id) { return LookupKvNamespace(id); };
  }
  kv_service_ = std::make_unique<kv::KvService>(*kv_store_, std::move(lookup));
  kv_service_->Register(registry_);
  co_return Status::Ok();
}

Task<Result<kv::KvNamespaceLimits>> ServerNode::LookupKvNamespace(uint32_t id) {
  kv::KvNamespaceResponse response;
  if (meta_ != nullptr) {
    CO_ASSIGN_OR_RETURN(response, meta_->KvNamespaceById(id));
  } else {
    CO_ASSIGN_OR_RETURN(NetAddress meta_address, NetAddress::Parse(options_.meta_address));
    rpc::MessageBuffer message = rpc::EncodeMessage(kv::KvNamespaceByIdRequest{.id = id});
    CO_ASSIGN_OR_RETURN(rpc::CallResult answer,
                        co_await peers_->Call(meta_address, meta::kKvNamespaceByIdMethod, message.span(), {},
                                              {.timeout = std::chrono::seconds(5), .cancel = stopping_.token()}));
    CO_ASSIGN_OR_RETURN(response, kv::DecodeKvNamespaceResponse(answer.message.span()));
  }
  co_return kv::LimitsOnNode(response.spec, response.nodes_up);
}

meta::NodeReportRequest ServerNode::Report() const {
  meta::NodeReportRequest report;
  report.node_id = node_id_;
  report.address = server_->address().ToString();
  const storage::DiskUsage usage = store_->usage();
  const uint64_t usable = usage.capacity_bytes - std::min(usage.capacity_bytes, usage.reserve_bytes);
  report.disks.emplace_back(storage_directory_,
                            std::make_pair(usage.capacity_bytes, usable - std::min(usable, usage.used_bytes)));
  return report;
}

Task<Status> ServerNode::SendReport() {
  if (meta_ != nullptr) {
    auto reported = co_await meta_->ReportNode(Report());
    co_return reported.status();
  }
  CO_ASSIGN_OR_RETURN(NetAddress meta_address, NetAddress::Parse(options_.meta_address));
  rpc::MessageBuffer message = rpc::EncodeMessage(Report());
  auto answer = co_await peers_->Call(meta_address, meta::kReportNodeMethod, message.span(), {},
                                      {.timeout = options_.heartbeat_every * 2, .cancel = stopping_.token()});
  co_return answer.status();
}

Task<void> ServerNode::HeartbeatLoop() {
  bool was_ok = true;
  while (true) {
    Status slept = co_await Sleep(env_, options_.heartbeat_every, stopping_.token());
    if (!slept.ok()) co_return;
    Status reported = co_await SendReport();
    if (!reported.ok() && was_ok) LOG_WARN("storage node {}: report to meta failed: {}", node_id_, reported.ToString());
    if (reported.ok() && !was_ok) LOG_INFO("storage node {}: meta reached again", node_id_);
    was_ok = reported.ok();
  }
}

Task<void> ServerNode::Stop() {
  serving_ = false;
  stopping_.Cancel(Status::Unavailable("server stopping"));
  // Meta starts no background seal or extent creation from here on: the storage client closes
  // before meta does, and a creation cut off by it would leave abandoned records behind.
  if (meta_ != nullptr) meta_->extents().StopBackground();
  // Each part only if it started: Stop also unwinds a Start that failed half way.
  if (tasks_ != nullptr) {
    co_await server_->Shutdown();
    co_await tasks_->Join();
  }
  tasks_.reset();
  server_.reset();  // no response is being sent from the KV cache now
  kv_service_.reset();
  if (kv_store_ != nullptr) co_await kv_store_->Close();
  kv_store_.reset();
  if (peers_ != nullptr) co_await peers_->Close();
  if (meta_ != nullptr) co_await meta_->Close();
  if (store_ != nullptr) co_await store_->Close();
  meta_.reset();
  store_.reset();
}

}  // namespace cerulean::server
