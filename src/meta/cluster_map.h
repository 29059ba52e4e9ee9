// ClusterMap: the storage nodes meta knows, from their registrations and heartbeats, and the
// choice of chains for new extents. A node that has not reported for `down_after` is down: no
// new chain uses it, and extents on it are to be sealed. Soft state: nodes re-register after a
// meta restart. The version grows with every change a client must learn (a node up or down, a
// new node). Time is passed in, so the map is pure logic. One shard; not thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace cerulean::meta {

struct DiskReport {
  std::string path;
  uint64_t capacity_bytes = 0;
  uint64_t free_bytes = 0;
};

struct NodeReport {
  std::string node_id;  // stable across restarts (kept in the node's data directory)
  std::string address;  // host:port of its rpc server
  std::vector<DiskReport> disks;
};

struct NodeState {
  NodeReport report;
  TimePoint last_heard;
  bool up = true;
  uint64_t capacity_bytes() const;
  uint64_t free_bytes() const;
};

struct ClusterMapOptions {
  Duration down_after = std::chrono::seconds(10);
};

class ClusterMap {
 public:
  explicit ClusterMap(ClusterMapOptions options = {}) : options_(options) {}

  // A registration or a heartbeat: the node is up as of `now`. InvalidArgument for a report
  // without an id or address, AlreadyExists for another node's address under a new id.
  Status Report(NodeReport report, TimePoint now);
  // Marks nodes not heard from since now - down_after as down; returns the ids newly down.
  std::vector<std::string> CheckLiveness(TimePoint now);
  // A node meta could not reach (say, creating an extent on it): down until it reports again,
  // so that new chains avoid it now rather than after down_after. Returns whether it was up.
  bool MarkDown(const std::string& node_id);
  // `replicas` distinct up nodes for a new extent's chain, drawn at random with weight
  // proportional to free space, so that new extents spread and emptier nodes fill faster.
  // Unavailable when fewer nodes are up. `random` supplies 64-bit random numbers.
  template <typename Random>
  Result<std::vector<std::string>> PickChain(size_t replicas, Random&& random) const;

  const std::map<std::string, NodeState>& nodes() const { return nodes_; }
  size_t up_count() const;
  uint64_t version() const { return version_; }

 private:
  Result<std::vector<std::string>> PickChainWith(size_t replicas, const std::vector<uint64_t>& draws) const;

  ClusterMapOptions options_;
  std::map<std::string, NodeState> nodes_;  // by node id
  uint64_t version_ = 1;
};

template <typename Random>
Result<std::vector<std::string>> ClusterMap::PickChain(size_t replicas, Random&& random) const {
  std::vector<uint64_t> draws(replicas);
  for (uint64_t& draw : draws) draw = random();
  return PickChainWith(replicas, draws);
}

}  // namespace cerulean::meta
