#include "meta/cluster_map.h"

#include <fmt/format.h>

#include <algorithm>

namespace cerulean::meta {

uint64_t NodeState::capacity_bytes() const {
  uint64_t total = 0;
  for (const DiskReport& disk : report.disks) total += disk.capacity_bytes;
  return total;
}

uint64_t NodeState::free_bytes() const {
  uint64_t total = 0;
  for (const DiskReport& disk : report.disks) total += disk.free_bytes;
  return total;
}

Status ClusterMap::Report(NodeReport report, TimePoint now) {
  if (report.node_id.empty() || report.address.empty()) {
    return Status::InvalidArgument("a node report needs a node id and an address");
  }
  for (const auto& [id, state] : nodes_) {
    if (id != report.node_id && state.up && state.report.address == report.address) {
      return Status::AlreadyExists(fmt::format("address {} belongs to node {}, which is up", report.address, id));
    }
  }
  auto [it, inserted] = nodes_.try_emplace(report.node_id);
  NodeState& state = it->second;
  if (inserted || !state.up || state.report.address != report.address) version_++;
  state.report = std::move(report);
  state.last_heard = now;
  state.up = true;
  return Status::Ok();
}

std::vector<std::string> ClusterMap::CheckLiveness(TimePoint now) {
  std::vector<std::string> down;
  for (auto& [id, state] : nodes_) {
    if (state.up && state.last_heard + options_.down_after <= now) {
      state.up = false;
      down.push_back(id);
    }
  }
  if (!down.empty()) version_++;
  return down;
}

bool ClusterMap::MarkDown(const std::string& node_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || !it->second.up) return false;
  it->second.up = false;
  version_++;
  return true;
}

size_t ClusterMap::up_count() const {
  return static_cast<size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const auto& n) { return n.second.up; }));
}

Result<std::vector<std::string>> ClusterMap::PickChainWith(size_t replicas, const std::vector<uint64_t>& draws) const {
  std::vector<const NodeState*> candidates;
  for (const auto& [id, state] : nodes_) {
    if (state.up) candidates.push_back(&state);
  }
  if (replicas == 0 || candidates.size() < replicas) {
    return Status::Unavailable(fmt::format("a chain of {} needs {} nodes up; {} are", replicas, replicas, candidates.size()));
  }
  std::vector<std::string> chain;
  for (size_t i = 0; i < replicas; i++) {
    // Weight by free space, plus one so that full or unreported nodes can still be drawn last.
    uint64_t total = 0;
    for (const NodeState* node : candidates) total += node->free_bytes() / 4096 + 1;
    uint64_t point = draws[i] % total;
    size_t chosen = 0;
    for (; chosen < candidates.size(); chosen++) {
      const uint64_t weight = candidates[chosen]->free_bytes() / 4096 + 1;
      if (point < weight) break;
      point -= weight;
    }
    chain.push_back(candidates[chosen]->report.node_id);
    candidates.erase(candidates.begin() + static_cast<ptrdiff_t>(chosen));  // never twice on one node
  }
  return chain;
}

}  // namespace cerulean::meta
