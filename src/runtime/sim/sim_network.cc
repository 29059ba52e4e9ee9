#include "runtime/sim/sim_network.h"

#include <fmt/format.h>

#include "base/logging.h"
#include "runtime/sim/sim_connection.h"
#include "runtime/sim/sim_listener.h"
#include "runtime/sim/sim_stream.h"
#include "runtime/sim/sim_world.h"

namespace cerulean {

SimNetwork::SimNetwork(SimWorld& world) : world_(world) {}

SimNetwork::~SimNetwork() {
  // Only a workload that stopped early leaves these; its frames leak and keep pointing here, so
  // say so rather than abort and hide the test's own failure.
  if (!listeners_.empty() || !connections_.empty() || !held_connects_.empty()) {
    LOG_ERROR("sim network destroyed while in use listeners={} connections={} held_connects={}",
              listeners_.size(), connections_.size(), held_connects_.empty() ? 0 : 1);
  }
}

void SimNetwork::set_options(const SimNetworkOptions& options) {
  CHECK(options.latency_min.count() >= 0 && options.latency_min <= options.latency_max);
  CHECK(options.reset_probability >= 0 && options.reset_probability <= 1);
  CHECK(options.delay_spike_probability >= 0 && options.delay_spike_probability <= 1);
  CHECK(options.delay_spike.count() >= 0);
  options_ = options;
}

bool SimNetwork::IsSelfAlias(std::string_view host) {
  return host == "0.0.0.0" || host == "127.0.0.1" || host == "localhost";
}

SimNetwork::HostPair SimNetwork::Ordered(std::string_view host_a, std::string_view host_b) {
  if (host_b < host_a) std::swap(host_a, host_b);
  return {std::string(host_a), std::string(host_b)};
}

void SimNetwork::AddHost(const std::string& host) {
  hosts_.insert(host);
  next_ephemeral_port_.emplace(host, kEphemeralPortFirst);
}

void SimNetwork::Partition(std::string_view host_a, std::string_view host_b) {
  if (host_a == host_b) return;
  if (partitions_.insert(Ordered(host_a, host_b)).second) {
    world_.Trace("network", fmt::format("partition {} {}", host_a, host_b));
  }
}

void SimNetwork::Heal(std::string_view host_a, std::string_view host_b) {
  if (partitions_.erase(Ordered(host_a, host_b)) == 0) return;
  world_.Trace("network", fmt::format("heal {} {}", host_a, host_b));
  ResumeHeldTraffic();
}

void SimNetwork::HealAll() {
  partitions_.clear();
  world_.Trace("network", "heal all");
  ResumeHeldTraffic();
}

void SimNetwork::Isolate(std::string_view host) {
  for (const std::string& other : hosts_) Partition(host, other);
}

bool SimNetwork::Partitioned(std::string_view host_a, std::string_view host_b) const {
  return host_a != host_b && partitions_.contains(Ordered(host_a, host_b));
}

void SimNetwork::KillNode(std::string_view host) {
  CHECK(hosts_.contains(host)) << "no node " << host;
  if (!dead_hosts_.insert(std::string(host)).second) return;
  world_.Trace(host, "killed");
  // Reset() neither creates nor destroys connections, so the map is stable while we walk it.
  for (auto& [id, connection] : connections_) {
    if (connection->Involves(host)) connection->Reset("node killed");
  }
  std::vector<SimListener*> closing;
  for (auto& [key, listener] : listeners_) {
    if (key.first == host) closing.push_back(listener);
  }
  for (SimListener* listener : closing) listener->Close();
  // Connects that the node had waiting on a partition find it dead when they wake.
  SimWaiter::WakeAll(held_connects_);
}

void SimNetwork::ReviveNode(std::string_view host) {
  auto dead = dead_hosts_.find(host);
  if (dead == dead_hosts_.end()) return;
  dead_hosts_.erase(dead);
  world_.Trace(host, "revived");
}

Duration SimNetwork::DrawLatency() {
  Duration latency = world_.RandomDuration(options_.latency_min, options_.latency_max);
  if (world_.RandomChance(options_.delay_spike_probability)) latency += options_.delay_spike;
  return latency;
}

void SimNetwork::Register(SimConnection* connection) {
  CHECK(connections_.emplace(connection->id(), connection).second);
}

void SimNetwork::Unregister(SimConnection* connection) {
  CHECK(connections_.erase(connection->id()) == 1);
}

void SimNetwork::Unregister(SimListener* listener) {
  const NetAddress address = listener->address();
  CHECK(listeners_.erase({address.host, address.port}) == 1);
}

void SimNetwork::ResumeHeldTraffic() {
  for (auto& [id, connection] : connections_) connection->ResumeHeld();
  // Every held connect re-checks its partition when it runs; those still cut off wait again.
  SimWaiter::WakeAll(held_connects_);
}

Result<uint16_t> SimNetwork::AllocatePort(const std::string& host) {
  uint16_t& next = next_ephemeral_port_.find(host)->second;
  constexpr uint32_t kPortCount = kEphemeralPortLast - kEphemeralPortFirst + 1;
  for (uint32_t attempt = 0; attempt < kPortCount; attempt++) {
    const uint16_t port = next;
    next = port == kEphemeralPortLast ? kEphemeralPortFirst : port + 1;
    if (!listeners_.contains({host, port})) return port;
  }
  return Status::ResourceExhausted(fmt::format("no free port on {}", host));
}

Result<std::unique_ptr<Listener>> SimNetwork::Listen(const std::string& host,
                                                     const NetAddress& address) {
  if (!alive(host)) return Status::Unavailable(fmt::format("node {} is down", host));
  if (address.host != host && !IsSelfAlias(address.host)) {
    return Status::InvalidArgument(
        fmt::format("node {} cannot listen on {}", host, address.ToString()));
  }
  uint16_t port = address.port;
  if (port == 0) {
    ASSIGN_OR_RETURN(port, AllocatePort(host));
  } else if (listeners_.contains({host, port})) {
    return Status::AlreadyExists(fmt::format("{}:{} already in use", host, port));
  }
  auto listener = std::make_unique<SimListener>(*this, NetAddress{host, port});
  listeners_.emplace(ListenerKey{host, port}, listener.get());
  world_.Trace(host, fmt::format("listen on port {}", port));
  return std::unique_ptr<Listener>(std::move(listener));
}

Task<Result<std::unique_ptr<Stream>>> SimNetwork::Connect(std::string from_host, NetAddress address,
                                                          CancelToken cancel) {
  const std::string to_host = IsSelfAlias(address.host) ? from_host : address.host;
  const uint64_t attempt = next_connect_attempt_++;
  if (!alive(from_host)) co_return Status::Unavailable(fmt::format("node {} is down", from_host));
  world_.Trace(from_host, fmt::format("connect {} to {}:{}", attempt, to_host, address.port));
  Status waited = co_await SimWaiter::Until(world_, world_.Now() + DrawLatency(), cancel);
  // Each pass waits for a heal or a kill; a connect across a partition only ends with its token.
  while (waited.ok() && Partitioned(from_host, to_host) && alive(from_host)) {
    world_.Trace(from_host, fmt::format("connect {} held: partitioned", attempt));
    waited = co_await SimWaiter::On(world_, held_connects_, cancel);
  }
  if (!waited.ok()) {
    world_.Trace(from_host, fmt::format("connect {} cancelled", attempt));
    co_return waited;
  }
  if (!alive(from_host)) co_return Status::Unavailable(fmt::format("node {} is down", from_host));
  co_return Arrive(from_host, to_host, address.port, attempt);
}

Result<std::unique_ptr<Stream>> SimNetwork::Arrive(const std::string& from_host,
                                                   const std::string& to_host, uint16_t port,
                                                   uint64_t attempt) {
  auto found = listeners_.find({to_host, port});
  if (found == listeners_.end() || found->second->backlog_full()) {
    const char* why = found == listeners_.end() ? "nothing listens" : "backlog full";
    world_.Trace(from_host, fmt::format("connect {} refused: {}", attempt, why));
    return Status::Unavailable(fmt::format("connection refused by {}:{}: {}", to_host, port, why));
  }
  ASSIGN_OR_RETURN(const uint16_t local_port, AllocatePort(from_host));
  const uint64_t id = next_connection_id_++;
  auto connection =
      std::make_shared<SimConnection>(*this, id, SimConnection::Endpoint{from_host, local_port},
                                      SimConnection::Endpoint{to_host, port});
  world_.Trace(from_host, fmt::format("connect {} established: conn {} {}:{} -> {}:{}", attempt, id,
                                      from_host, local_port, to_host, port));
  found->second->Enqueue(std::make_unique<SimStream>(connection, 1));
  return std::unique_ptr<Stream>(std::make_unique<SimStream>(std::move(connection), 0));
}

}  // namespace cerulean
