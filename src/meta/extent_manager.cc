#include "meta/extent_manager.h"

#include <fmt/format.h>

#include "base/little_endian.h"
#include "base/logging.h"
#include "meta/meta_keys.h"
#include "runtime/when_all.h"

namespace cerulean::meta {
namespace {

constexpr std::string_view kNextExtentCounter = "next_extent_id";
// No record starts this far into an extent (extents are at most a few GiB); a piece that claims
// to is refused before any arithmetic on its offset.
constexpr uint64_t kRecordOffsetMax = 1ull << 48;
// Chains tried before a new extent gives up (a node can die between a heartbeat and a create).
constexpr int kCreateAttempts = 3;

std::string EncodeCounter(uint64_t value) {
  std::string bytes(8, '\0');
  StoreLittleEndian<uint64_t>(reinterpret_cast<std::byte*>(bytes.data()), value);
  return bytes;
}

}  // namespace

ExtentManager::ExtentManager(Env& env, MetadataStore& store, ClusterMap& cluster, rpc::RpcClient& storage,
                             ExtentManagerOptions options)
    : env_(env), store_(store), cluster_(cluster), storage_(storage), options_(options), background_(env) {}

Status ExtentManager::Load() {
  ASSIGN_OR_RETURN(std::optional<std::string> next, store_.Get(keys::Counter(kNextExtentCounter)));
  if (next) {
    if (next->size() != 8) return Status::DataLoss("the next-extent-id counter is damaged");
    next_extent_id_ = LoadLittleEndian<uint64_t>(reinterpret_cast<const std::byte*>(next->data()));
  }
  const std::string end = keys::Extent(UINT64_MAX) + '\xff';
  std::string from = keys::Extent(0);
  while (true) {
    ASSIGN_OR_RETURN(std::vector<MetadataEntry> entries, store_.Scan(from, end, 4096));
    for (const MetadataEntry& entry : entries) {
      ASSIGN_OR_RETURN(ExtentRecord record, DecodeExtentRecord(entry.value));
      if (record.extent_id >= next_extent_id_) {
        return Status::DataLoss(fmt::format("extent {} is past the next extent id {}", record.extent_id, next_extent_id_));
      }
      Extent& extent = extents_[record.extent_id];
      if (record.state == ExtentState::kSealed) extent.durable_length = record.sealed_length;
      extent.record = std::move(record);
    }
    if (entries.size() < 4096) break;
    from = entries.back().key + '\0';
  }
  // Extents left open by an earlier run are sealed by Maintain, not handed out again: their
  // writers are gone, and a fresh extent costs nothing.
  return Status::Ok();
}

const ExtentRecord* ExtentManager::Find(uint64_t extent_id) const {
  auto it = extents_.find(extent_id);
  return it == extents_.end() ? nullptr : &it->second.record;
}

Result<storage::Chain> ExtentManager::ChainOf(const ExtentRecord& record) const {
  storage::Chain chain;
  chain.version = record.chain_version;
  for (const std::string& node_id : record.replicas) {
    auto node = cluster_.nodes().find(node_id);
    if (node == cluster_.nodes().end()) {
      return Status::Unavailable(fmt::format("extent {:016x} is on node {}, which meta does not know (yet)",
                                             record.extent_id, node_id));
    }
    ASSIGN_OR_RETURN(NetAddress address, NetAddress::Parse(node->second.report.address));
    chain.replicas.push_back(std::move(address));
  }
  return chain;
}

Result<ExtentLocation> ExtentManager::Locate(uint64_t extent_id) const {
  const ExtentRecord* record = Find(extent_id);
  if (record == nullptr) return Status::NotFound(fmt::format("no extent {:016x}", extent_id));
  ExtentLocation location;
  location.extent_id = extent_id;
  location.chain_version = record->chain_version;
  for (const std::string& node_id : record->replicas) {
    auto node = cluster_.nodes().find(node_id);
    // An unknown node is left out: readers can use the others.
    if (node != cluster_.nodes().end()) location.addresses.push_back(node->second.report.address);
  }
  if (location.addresses.empty()) {
    return Status::Unavailable(fmt::format("no replica of extent {:016x} is on a known node", extent_id));
  }
  return location;
}

Task<Status> ExtentManager::Persist(const ExtentRecord& record) {
  MetadataBatch batch;
  batch.Put(keys::Extent(record.extent_id), EncodeExtentRecord(record));
  co_return co_await store_.Commit(std::move(batch));
}

Task<Result<std::vector<uint64_t>>> ExtentManager::CreateExtents(Kind kind, size_t count) {
  std::vector<uint64_t> created;
  Status last = Status::Unavailable("no chain tried");
  for (int attempt = 0; attempt < kCreateAttempts && created.size() < count; attempt++) {
    if (stopping_) {
      last = Status::Unavailable("meta is stopping");
      break;
    }
    std::vector<ExtentRecord> records;
    MetadataBatch batch;
    for (size_t i = created.size(); i < count; i++) {
      auto replicas = cluster_.PickChain(kind.replicas, [this] { return env_.Random(); });
      if (!replicas.ok()) {
        if (created.empty()) co_return replicas.status();
        co_return created;
      }
      ExtentRecord& record = records.emplace_back();
      record.extent_id = next_extent_id_++;
      record.replicas = std::move(*replicas);
      record.durable = kind.durable;
      batch.Put(keys::Extent(record.extent_id), EncodeExtentRecord(record));
    }
    // The records and the counter go first, so that an id is never reused after a crash and a
    // replica that holds an extent meta does not know can only be an abandoned one.
    batch.Put(keys::Counter(kNextExtentCounter), EncodeCounter(next_extent_id_));
    if (Status committed = co_await store_.Commit(std::move(batch)); !committed.ok()) {
      last = committed;
      break;  // none of these exists; those created before are returned
    }
    std::vector<Task<Status>> creates;
    for (const ExtentRecord& record : records) {
      extents_[record.extent_id].record = record;
      extents_[record.extent_id].handed_out = true;  // Maintain must not seal it as a leftover while it is created
      creates.push_back(CreateOnReplicas(record));
    }
    const std::vector<Status> results = co_await WhenAll(std::move(creates));
    MetadataBatch abandoned;
    for (size_t i = 0; i < records.size(); i++) {
      const uint64_t id = records[i].extent_id;
      if (results[i].ok()) {
        LOG_INFO("meta: extent {:016x} created on {}", id, fmt::join(records[i].replicas, ","));
        created.push_back(id);
        continue;
      }
      LOG_WARN("meta: creating extent {:016x} failed, abandoned: {}", id, results[i].ToString());
      last = results[i];
      extents_[id].record.state = ExtentState::kAbandoned;
      abandoned.Put(keys::Extent(id), EncodeExtentRecord(extents_[id].record));
    }
    if (!abandoned.empty()) {
      // A failure leaves them open in the store, to be sealed as leftovers by the next run.
      if (Status committed = co_await store_.Commit(std::move(abandoned)); !committed.ok()) {
        last = committed;
        break;
      }
    }
  }
  if (created.empty()) co_return last;
  co_return created;
}

Task<Status> ExtentManager::CreateOnReplicas(const ExtentRecord& record) {
  CO_ASSIGN_OR_RETURN(storage::Chain chain, ChainOf(record));
  const storage::Durability durability = record.durable ? storage::Durability::kSync : storage::Durability::kNone;
  // One call per replica, so that a replica that fails is known by name.
  std::vector<Task<Status>> creates;
  for (const NetAddress& replica : chain.replicas) {
    storage::Chain one;
    one.version = chain.version;
    one.replicas.push_back(replica);
    creates.push_back(storage::CreateExtentOnChain(storage_, one, record.extent_id, durability, options_.storage_timeout));
  }
  std::vector<Status> results = co_await WhenAll(std::move(creates));
  Status first_error;
  for (size_t i = 0; i < results.size(); i++) {
    if (results[i].ok()) continue;
    if (first_error.ok()) first_error = results[i];
    if (results[i].code() == StatusCode::kUnavailable || results[i].code() == StatusCode::kDeadlineExceeded) {
      if (cluster_.MarkDown(record.replicas[i])) LOG_WARN("meta: node {} unreachable, marked down", record.replicas[i]);
    }
  }
  co_return first_error;
}

Task<Result<std::vector<ExtentLocation>>> ExtentManager::Writable(size_t replicas, bool durable, size_t count) {
  if (replicas == 0 || replicas > storage::kChainLengthMax) {
    co_return Status::InvalidArgument(fmt::format("{} replicas; a chain has 1 to {}", replicas, storage::kChainLengthMax));
  }
  const Kind kind{replicas, durable};
  count = std::clamp<size_t>(count, 1, options_.open_extents_per_kind);
  CO_RETURN_IF_ERROR(co_await FillPool(kind, count));
  std::vector<uint64_t>& pool = open_[kind];
  std::vector<ExtentLocation> locations;
  for (size_t i = 0; i < count; i++) {
    const uint64_t id = pool[(next_handout_ + i) % pool.size()];
    CO_ASSIGN_OR_RETURN(ExtentLocation location, Locate(id));
    locations.push_back(std::move(location));
  }
  next_handout_ += count;
  co_return locations;
}

Task<Status> ExtentManager::FillPool(Kind kind, size_t count) {
  while (open_[kind].size() < count) {
    // One creation at a time per kind: writers arriving meanwhile wait for it instead of each
    // creating extents of their own, so the pool stays at its size.
    if (auto creating = creating_.find(kind); creating != creating_.end()) {
      std::shared_ptr<Event> done = creating->second;  // kept alive across the wait
      co_await done->Wait();
      continue;
    }
    auto done = std::make_shared<Event>(env_);
    creating_[kind] = done;
    auto created = co_await CreateExtents(kind, count - open_[kind].size());
    creating_.erase(kind);
    done->Set();
    if (!created.ok()) co_return created.status();
    for (uint64_t id : *created) {
      // A writer may have failed it, or Maintain retired it, while it was being created.
      const Extent& extent = extents_.at(id);
      if (extent.record.state == ExtentState::kOpen && !extent.retired) open_[kind].push_back(id);
    }
  }
  co_return Status::Ok();
}

void ExtentManager::Retire(uint64_t extent_id) {
  auto it = extents_.find(extent_id);
  if (it == extents_.end()) return;
  it->second.retired = true;
  const Kind kind{it->second.record.replicas.size(), it->second.record.durable};
  std::erase(open_[kind], extent_id);
}

Status ExtentManager::ReportFailure(uint64_t extent_id, std::string_view reason) {
  auto it = extents_.find(extent_id);
  if (it == extents_.end()) return Status::NotFound(fmt::format("no extent {:016x}", extent_id));
  // Every writer of a full extent reports it; the first report does the work.
  if (it->second.retired || it->second.record.state != ExtentState::kOpen) return Status::Ok();
  LOG_INFO("meta: extent {:016x} retired: a writer's append failed: {}", extent_id, reason);
  Retire(extent_id);
  if (stopping_) return Status::Ok();  // sealed by the next run of meta, as a leftover
  const Kind kind{it->second.record.replicas.size(), it->second.record.durable};
  it->second.seal_running = true;  // before the task first runs: Maintain must not start another
  background_.Spawn(Refill(kind));
  background_.Spawn(SealInBackground(extent_id));
  return Status::Ok();
}

Task<void> ExtentManager::SealInBackground(uint64_t extent_id) {
  Status sealed = co_await Seal(extent_id);
  extents_.at(extent_id).seal_running = false;  // Maintain retries it if it failed
  if (!sealed.ok()) LOG_WARN("meta: sealing extent {:016x} after a failed append: {}", extent_id, sealed.ToString());
}

Task<void> ExtentManager::Refill(Kind kind) {
  if (stopping_) co_return;
  Status refilled = co_await FillPool(kind, options_.open_extents_per_kind);
  if (!refilled.ok()) LOG_INFO("meta: refilling the pool of {}-replica extents: {}", kind.replicas, refilled.ToString());
}

Task<void> ExtentManager::Settle() { co_await background_.Join(); }

Task<Status> ExtentManager::Seal(uint64_t extent_id) {
  Extent* extent = &extents_.at(extent_id);
  if (extent->record.state == ExtentState::kSealed || extent->record.state == ExtentState::kAbandoned) {
    co_return Status::Ok();
  }
  CO_ASSIGN_OR_RETURN(storage::Chain chain, ChainOf(extent->record));
  if (extent->record.state == ExtentState::kOpen) {
    auto chosen = co_await storage::ChooseSealLength(storage_, chain, extent_id, options_.storage_timeout);
    if (!chosen.ok()) {
      // Meta may have crashed between recording an extent and creating it on its chain: then
      // no replica has it, no piece can be in it, and it is abandoned rather than retried.
      if (co_await NoReplicaHasIt(chain, extent_id)) {
        extent = &extents_.at(extent_id);
        if (extent->record.state != ExtentState::kOpen) co_return Status::Ok();
        extent->record.state = ExtentState::kAbandoned;
        LOG_INFO("meta: extent {:016x} is on none of its replicas: abandoned", extent_id);
        co_return co_await Persist(extent->record);
      }
      co_return chosen.status();
    }
    const uint64_t length = *chosen;
    extent = &extents_.at(extent_id);
    if (extent->record.state == ExtentState::kOpen) {  // else a concurrent seal decided first
      // The decision is recorded before any replica acts on it: a retry seals at this length.
      // Never below a length a commit has already been allowed to rely on (learned after the
      // query above was answered); every reachable replica holds that much.
      extent->record.state = ExtentState::kSealing;
      extent->record.sealed_length = std::max(length, extent->durable_length);
      CO_RETURN_IF_ERROR(co_await Persist(extent->record));
      extent = &extents_.at(extent_id);
    }
  }
  const uint64_t length = extent->record.sealed_length;
  CO_RETURN_IF_ERROR(co_await storage::SealChainAt(storage_, chain, extent_id, length, options_.storage_timeout));
  extent = &extents_.at(extent_id);
  if (extent->record.state != ExtentState::kSealing) co_return Status::Ok();
  extent->record.state = ExtentState::kSealed;
  extent->durable_length = length;
  CO_RETURN_IF_ERROR(co_await Persist(extent->record));
  LOG_INFO("meta: extent {:016x} sealed at {}", extent_id, length);
  co_return Status::Ok();
}

Task<bool> ExtentManager::NoReplicaHasIt(const storage::Chain& chain, uint64_t extent_id) {
  rpc::MessageBuffer query = rpc::EncodeMessage(storage::ExtentRequest{.extent_id = extent_id});
  for (const NetAddress& replica : chain.replicas) {
    auto answer = co_await storage_.Call(replica, storage::kExtentLengthMethod, query.span(), {},
                                         {.timeout = options_.storage_timeout});
    if (answer.status().code() != StatusCode::kNotFound) co_return false;
  }
  co_return true;
}

Task<Status> ExtentManager::CheckDurable(const std::vector<Piece>& pieces) {
  // The end each extent must reach: past the last piece's record offset, since a record counts
  // towards an extent's length only whole.
  std::map<uint64_t, uint64_t> needed;
  for (const Piece& piece : pieces) {
    if (piece.record_offset >= kRecordOffsetMax) {
      co_return Status::InvalidArgument(fmt::format("a piece at offset {} is past any extent", piece.record_offset));
    }
    uint64_t& end = needed[piece.extent_id];
    end = std::max(end, piece.record_offset + 1);
  }
  // Whether the pieces up to `end` of an extent are inside what it holds for good. A sealing or
  // sealed extent holds what is below its seal, whatever a replica may have beyond it: the seal
  // cuts the rest. Checked again after every await, since a seal may be decided meanwhile.
  const auto check = [&](uint64_t extent_id, uint64_t end) -> std::optional<Status> {
    const Extent& extent = extents_.at(extent_id);
    const ExtentRecord& record = extent.record;
    if (record.state == ExtentState::kAbandoned) {
      return Status::InvalidArgument(fmt::format("a piece names extent {:016x}, which holds no data", extent_id));
    }
    if (record.state == ExtentState::kSealed || record.state == ExtentState::kSealing) {
      if (record.sealed_length >= end) return Status::Ok();
      return Status::Aborted(fmt::format("a piece at {} of extent {:016x} is past its seal at {}; write it again",
                                         end - 1, extent_id, record.sealed_length));
    }
    if (extent.durable_length >= end) return Status::Ok();
    return std::nullopt;  // not known yet: ask the replicas
  };
  for (const auto& [extent_id, end] : needed) {
    if (!extents_.contains(extent_id)) {
      co_return Status::InvalidArgument(fmt::format("a piece names extent {:016x}, which holds no data", extent_id));
    }
    if (auto known = check(extent_id, end)) {
      CO_RETURN_IF_ERROR(*known);
      continue;
    }
    CO_ASSIGN_OR_RETURN(storage::Chain chain, ChainOf(extents_.at(extent_id).record));
    CO_ASSIGN_OR_RETURN(uint64_t length,
                        co_await storage::DurableLength(storage_, chain, extent_id, options_.storage_timeout));
    Extent& extent = extents_.at(extent_id);
    // Learned while open only: a seal decided meanwhile may already cut below `length`.
    if (extent.record.state == ExtentState::kOpen) extent.durable_length = std::max(extent.durable_length, length);
    if (auto known = check(extent_id, end)) {
      CO_RETURN_IF_ERROR(*known);
      continue;
    }
    co_return Status::Aborted(fmt::format(
        "the piece at {} of extent {:016x} is not durable on every replica (durable length {}); write it again",
        end - 1, extent_id, extent.durable_length));
  }
  co_return Status::Ok();
}

Task<void> ExtentManager::Maintain() {
  const std::vector<std::string> down = cluster_.CheckLiveness(env_.Now());
  for (const std::string& node : down) LOG_WARN("meta: node {} is down", node);
  std::vector<uint64_t> to_seal;
  for (const auto& [id, extent] : extents_) {
    const ExtentState state = extent.record.state;
    if (state == ExtentState::kSealing) {
      to_seal.push_back(id);
    } else if (state == ExtentState::kOpen) {
      // Left open by an earlier run of meta, or retired after a failed append and not sealed
      // (its seal in the background failed).
      bool seal_now = !extent.handed_out || extent.retired;
      for (const std::string& node_id : extent.record.replicas) {
        auto node = cluster_.nodes().find(node_id);
        if (node != cluster_.nodes().end() && !node->second.up) seal_now = true;
      }
      if (seal_now) to_seal.push_back(id);
    }
  }
  for (uint64_t id : to_seal) {
    if (extents_.at(id).seal_running) continue;  // sealing in the background (a report started it)
    Retire(id);
    Status sealed = co_await Seal(id);
    if (!sealed.ok()) LOG_WARN("meta: sealing extent {:016x}: {}", id, sealed.ToString());
  }
}

void ExtentManager::AddBytes(const ObjectRecord& record, bool garbage, int64_t sign,
                             std::map<uint64_t, bool>& touched) {
  for (const Piece& piece : record.pieces) {
    auto it = extents_.find(piece.extent_id);
    if (it == extents_.end()) continue;
    uint64_t& counter = garbage ? it->second.record.garbage_bytes : it->second.record.committed_bytes;
    counter += static_cast<uint64_t>(sign * static_cast<int64_t>(piece.length));
    touched[piece.extent_id] = true;
  }
}

void ExtentManager::Account(const ObjectRecord* added, const ObjectRecord* removed, MetadataBatch& batch) {
  std::map<uint64_t, bool> touched;
  if (added != nullptr) AddBytes(*added, false, +1, touched);
  if (removed != nullptr) AddBytes(*removed, true, +1, touched);
  // The counters as they stand, this commit included: a later batch carries later values, and
  // the store applies batches in order.
  for (const auto& [id, unused] : touched) batch.Put(keys::Extent(id), EncodeExtentRecord(extents_.at(id).record));
}

void ExtentManager::Unaccount(const ObjectRecord* added, const ObjectRecord* removed) {
  std::map<uint64_t, bool> touched;
  if (added != nullptr) AddBytes(*added, false, -1, touched);
  if (removed != nullptr) AddBytes(*removed, true, -1, touched);
}

ExtentStats ExtentManager::Stats() const {
  ExtentStats stats;
  for (const auto& [id, extent] : extents_) {
    const ExtentRecord& record = extent.record;
    switch (record.state) {
      case ExtentState::kOpen: stats.open++; break;
      case ExtentState::kSealing: stats.sealing++; break;
      case ExtentState::kSealed: stats.sealed++; break;
      case ExtentState::kAbandoned: stats.abandoned++; break;
    }
    stats.committed_bytes += record.committed_bytes;
    stats.garbage_bytes += record.garbage_bytes;
    if (record.state == ExtentState::kSealed && record.sealed_length > 0) {
      const uint64_t live = record.committed_bytes - std::min(record.garbage_bytes, record.committed_bytes);
      if (static_cast<double>(live) < options_.compaction_live_fraction * static_cast<double>(record.sealed_length)) {
        stats.compaction_candidates.push_back(record);
      }
    }
  }
  return stats;
}

}  // namespace cerulean::meta
