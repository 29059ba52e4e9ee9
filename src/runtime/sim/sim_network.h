// SimNetwork: the simulated TCP network between the nodes of a SimWorld. It routes connects to
// listeners, draws latencies, and injects faults: random resets and delay spikes (options),
// partitions, and killed nodes. Owned by the SimWorld; single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "runtime/env.h"
#include "runtime/intrusive_list.h"
#include "runtime/sim/sim_waiter.h"

namespace cerulean {

class SimConnection;
class SimListener;
class SimWorld;

struct SimNetworkOptions {
  // One-way latency of a connect or of a write's bytes, drawn uniformly from this range.
  Duration latency_min = std::chrono::microseconds(50);
  Duration latency_max = std::chrono::microseconds(500);
  // Per delivered write: the connection is reset; both ends' pending and later operations fail
  // with Unavailable("connection reset").
  double reset_probability = 0;
  // Per connect or write: `delay_spike` is added to its latency.
  double delay_spike_probability = 0;
  Duration delay_spike = std::chrono::milliseconds(100);
};

class SimNetwork {
 public:
  // Bytes written but not yet read, per direction, beyond which a writer waits (TCP's windows).
  static constexpr size_t kUnreadBytesMax = 256 * 1024;
  // Connections a listener holds before they are accepted; more are refused.
  static constexpr size_t kListenBacklogMax = 128;
  // Ports given for port 0 and to the connecting side of a connection, per host.
  static constexpr uint16_t kEphemeralPortFirst = 40000;
  static constexpr uint16_t kEphemeralPortLast = 60999;

  explicit SimNetwork(SimWorld& world);
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  const SimNetworkOptions& options() const { return options_; }
  void set_options(const SimNetworkOptions& options);

  // --- faults. Partitions are symmetric. Bytes between partitioned hosts are held until healed;
  // a connect across a partition waits until healed or cancelled.
  void Partition(std::string_view host_a, std::string_view host_b);
  void Heal(std::string_view host_a, std::string_view host_b);
  void HealAll();
  // Partitions `host` from every other node.
  void Isolate(std::string_view host);
  bool Partitioned(std::string_view host_a, std::string_view host_b) const;
  // Resets every connection of `host` and closes its listeners; until revived, it can neither
  // listen nor connect, and connects to it are refused.
  void KillNode(std::string_view host);
  void ReviveNode(std::string_view host);
  bool alive(std::string_view host) const { return !dead_hosts_.contains(host); }

  // "0.0.0.0", "127.0.0.1" and "localhost" name the node itself.
  static bool IsSelfAlias(std::string_view host);

  // --- used by SimWorld and SimEnv
  void AddHost(const std::string& host);
  Result<std::unique_ptr<Listener>> Listen(const std::string& host, const NetAddress& address);
  Task<Result<std::unique_ptr<Stream>>> Connect(std::string from_host, NetAddress address,
                                                CancelToken cancel);

  // --- used by SimConnection and SimListener
  SimWorld& world() { return world_; }
  // One-way latency, with the occasional spike.
  Duration DrawLatency();
  void Register(SimConnection* connection);
  void Unregister(SimConnection* connection);
  void Unregister(SimListener* listener);

 private:
  using ListenerKey = std::pair<std::string, uint16_t>;
  using HostPair = std::pair<std::string, std::string>;
  static HostPair Ordered(std::string_view host_a, std::string_view host_b);

  Result<uint16_t> AllocatePort(const std::string& host);
  // Lets held bytes and connects move on after a heal or a kill.
  void ResumeHeldTraffic();
  // Called when the connect's SYN reaches `to_host`: refuse or hand a connection to the listener.
  Result<std::unique_ptr<Stream>> Arrive(const std::string& from_host, const std::string& to_host,
                                         uint16_t port, uint64_t attempt);

  SimWorld& world_;
  SimNetworkOptions options_;
  std::set<std::string, std::less<>> hosts_;
  std::set<std::string, std::less<>> dead_hosts_;
  std::set<HostPair> partitions_;
  std::map<ListenerKey, SimListener*> listeners_;
  // By id, so that heals and kills visit connections in creation order.
  std::map<uint64_t, SimConnection*> connections_;
  std::map<std::string, uint16_t, std::less<>> next_ephemeral_port_;
  // Connects waiting for a partition to heal.
  IntrusiveList<SimWaiter> held_connects_;
  uint64_t next_connection_id_ = 1;
  uint64_t next_connect_attempt_ = 1;
};

}  // namespace cerulean
