#include "client/kv_client_core.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/logging.h"
#include "meta/meta_messages.h"
#include "runtime/when_all.h"

namespace cerulean::client {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t HashOf(std::string_view text) {  // FNV-1a
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return Mix(hash);
}

bool NodeUnreachable(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded;
}

uint64_t ValueBytes(const KvGetItem& item) {
  uint64_t bytes = 0;
  for (const auto& piece : item.pieces) bytes += piece.size();
  return bytes;
}

uint64_t ValueBytes(const KvPutItem& item) {
  uint64_t bytes = 0;
  for (const auto& piece : item.pieces) bytes += piece.size();
  return bytes;
}

// Cuts a node's items into calls within the per-call limits.
template <typename Item>
std::vector<std::vector<size_t>> Chunks(std::span<const Item> items, const std::vector<size_t>& indexes) {
  std::vector<std::vector<size_t>> chunks;
  uint64_t bytes = 0;
  for (size_t index : indexes) {
    const uint64_t value = ValueBytes(items[index]);
    if (chunks.empty() || chunks.back().size() == kv::kKvBatchMax || bytes + value > kv::kKvBatchBytesMax) {
      chunks.emplace_back();
      bytes = 0;
    }
    chunks.back().push_back(index);
    bytes += value;
  }
  return chunks;
}

// An item's entry, with the CRC32C of its value.
kv::KvPutEntry EntryOf(const KvPutItem& item) {
  kv::KvPutEntry entry{.key = item.key, .ttl_s = item.ttl_s, .pin = item.pin};
  for (const auto& piece : item.pieces) {
    entry.piece_bytes.push_back(static_cast<uint32_t>(piece.size()));
    entry.value_bytes += piece.size();
    entry.value_crc = Crc32c(piece, entry.value_crc);
  }
  return entry;
}

// A put call's outcomes, one per item of `chunk`.
void TakePutOutcomes(const std::vector<size_t>& chunk, const Result<rpc::CallResult>& answer,
                     std::vector<std::vector<Result<KvPutResult>>>& replies) {
  Result<kv::KvOutcomesResponse> response =
      answer.ok() ? kv::DecodeKvOutcomesResponse(answer->message.span()) : Result<kv::KvOutcomesResponse>(answer.status());
  if (response.ok() && response->outcomes.size() != chunk.size()) {
    response = Status::Internal("a storage node answered another number of entries than sent");
  }
  for (size_t i = 0; i < chunk.size(); i++) {
    if (!response.ok()) {
      replies[chunk[i]].push_back(response.status());
      continue;
    }
    const kv::KvOutcome& outcome = response->outcomes[i];
    if (outcome.code != StatusCode::kOk) {
      replies[chunk[i]].push_back(Status(outcome.code, outcome.message));
    } else {
      replies[chunk[i]].push_back(outcome.flag ? KvPutResult::kAlreadyPresent : KvPutResult::kStored);
    }
  }
}

}  // namespace

KvClientCore::KvClientCore(Env& env, const KvClientOptions& options)
    : env_(env), options_(options), rpc_(env, {.connections_per_peer = 2}) {}

Task<Result<std::unique_ptr<KvClientCore>>> KvClientCore::Open(Env& env, const KvClientOptions& options) {
  std::unique_ptr<KvClientCore> core(new KvClientCore(env, options));
  CO_ASSIGN_OR_RETURN(core->meta_, NetAddress::Parse(options.meta_address));
  Status refreshed = co_await core->RefreshNodes();
  if (!refreshed.ok()) {
    co_await core->Close();
    co_return refreshed;
  }
  co_return std::move(core);
}

Task<void> KvClientCore::Close() {
  // Nodes would unmap a region once this process is gone; unregistering frees it now.
  for (size_t node = 0; node < nodes_.size(); node++) {
    for (const auto& [region, mapped] : nodes_[node].shared) {
      if (!mapped || !nodes_[node].up) continue;
      rpc::MessageBuffer message = rpc::EncodeMessage(shm::UnregisterRequest{.region = region});
      auto answer = co_await rpc_.Call(nodes_[node].address, kv::kKvShmUnregisterMethod, message.span(), {},
                                       {.timeout = std::chrono::seconds(1)});
      if (!answer.ok()) LOG_DEBUG("kv client: shared region not unregistered: {}", answer.status().ToString());
    }
  }
  co_await rpc_.Close();
}

Task<Result<std::span<std::byte>>> KvClientCore::AllocateShared(size_t bytes) {
  CO_ASSIGN_OR_RETURN(std::unique_ptr<shm::SharedRegion> region, shm::SharedRegion::Create(env_.Random(), bytes));
  const std::span<std::byte> memory = region->bytes();
  regions_.push_back(std::move(region));
  co_return memory;
}

template <typename Piece>
const shm::SharedRegion* KvClientCore::RegionOf(const std::vector<Piece>& pieces, bool contiguous) const {
  if (pieces.empty()) return nullptr;
  for (const auto& region : regions_) {
    std::optional<uint64_t> first = region->OffsetOf(pieces.front());
    if (!first) continue;
    uint64_t next = *first;
    for (const auto& piece : pieces) {
      std::optional<uint64_t> offset = region->OffsetOf(piece);
      if (!offset || (contiguous && *offset != next)) return nullptr;
      next = *offset + piece.size();
    }
    return region.get();
  }
  return nullptr;
}

Task<bool> KvClientCore::Shares(size_t node, const shm::SharedRegion& region) {
  auto known = nodes_[node].shared.find(region.id());
  if (known != nodes_[node].shared.end()) co_return known->second;
  rpc::MessageBuffer message = rpc::EncodeMessage(region.Registration());
  auto answer = co_await CallNode(node, kv::kKvShmRegisterMethod, message.span());
  if (answer.ok()) {
    nodes_[node].shared[region.id()] = true;
  } else if (!NodeUnreachable(answer.status())) {
    // Another host, or a node that cannot open the memfd: TCP it is, for this region.
    LOG_DEBUG("kv client: node {} does not share region {:#x}: {}", nodes_[node].id, region.id(),
              answer.status().ToString());
    nodes_[node].shared[region.id()] = false;
  }
  co_return answer.ok();
}

template <typename Item>
Task<const shm::SharedRegion*> KvClientCore::TakeShared(size_t node, std::span<const Item> items, std::vector<size_t>& indexes,
                                                   std::vector<size_t>& shared) {
  if (regions_.empty()) co_return nullptr;
  // One region per call: the first item's; items elsewhere go by TCP.
  constexpr bool kPut = std::is_same_v<Item, KvPutItem>;
  const shm::SharedRegion* region = nullptr;
  std::vector<size_t> rest;
  for (size_t index : indexes) {
    const shm::SharedRegion* in = RegionOf(items[index].pieces, /*contiguous=*/kPut);
    if (in != nullptr && region == nullptr) {
      const bool shares = co_await Shares(node, *in);
      if (!shares) co_return nullptr;
      region = in;
    }
    if (in != nullptr && in == region) {
      shared.push_back(index);
    } else {
      rest.push_back(index);
    }
  }
  indexes = std::move(rest);
  co_return region;
}

Task<Status> KvClientCore::RefreshNodes() {
  refreshed_ = env_.Now();
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer,
                      co_await rpc_.Call(meta_, meta::kClusterStatusMethod, {}, {}, {.timeout = options_.timeout}));
  CO_ASSIGN_OR_RETURN(meta::ClusterStatusResponse status, meta::DecodeClusterStatusResponse(answer.message.span()));
  // Nodes keep their index for the client's life (new ones are appended, none is removed):
  // batches in flight hold indexes into nodes_ across this refresh.
  for (const meta::NodeStatus& reported : status.nodes) {
    auto address = NetAddress::Parse(reported.address);
    if (!address.ok()) continue;
    auto known = std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& n) { return n.id == reported.node_id; });
    if (known == nodes_.end()) {
      nodes_.push_back({.id = reported.node_id, .address = *address, .hash = HashOf(reported.node_id), .up = reported.up});
      continue;
    }
    // A node this client could not reach stays out for a while even if meta still lists it as
    // up (meta notices a silent node only after its down time); then it is tried again.
    const bool failed_lately = !known->up && env_.Now() - known->failed_at < 4 * options_.map_refresh_min;
    known->up = reported.up && !failed_lately;
    if (reported.up && !(known->address == *address)) known->address = *address;
  }
  co_return Status::Ok();
}

Task<void> KvClientCore::RefreshIfDue() {
  if (env_.Now() - refreshed_ < options_.map_refresh_every) co_return;
  Status refreshed = co_await RefreshNodes();
  if (!refreshed.ok()) LOG_INFO("kv client: node list not refreshed: {}", refreshed.ToString());
}

Task<void> KvClientCore::NodeFailed(size_t node) {
  if (!nodes_[node].up) co_return;
  LOG_INFO("kv client: storage node {} at {} did not answer", nodes_[node].id, nodes_[node].address.ToString());
  nodes_[node].up = false;
  nodes_[node].failed_at = env_.Now();
  if (env_.Now() - refreshed_ < options_.map_refresh_min) co_return;
  Status refreshed = co_await RefreshNodes();
  if (!refreshed.ok()) LOG_INFO("kv client: node list not refreshed: {}", refreshed.ToString());
}

std::vector<size_t> KvClientCore::Replicas(const KvKey& key, size_t replicas) const {
  std::vector<std::pair<uint64_t, size_t>> scores;
  scores.reserve(nodes_.size());
  const uint64_t key_hash = key.word(2);
  for (size_t i = 0; i < nodes_.size(); i++) {
    if (nodes_[i].up) scores.push_back({Mix(key_hash ^ nodes_[i].hash), i});
  }
  const size_t count = std::min(replicas, scores.size());
  std::partial_sort(scores.begin(), scores.begin() + static_cast<ptrdiff_t>(count), scores.end(), std::greater<>());
  std::vector<size_t> chosen;
  for (size_t i = 0; i < count; i++) chosen.push_back(scores[i].second);
  return chosen;
}

Task<Result<rpc::CallResult>> KvClientCore::CallNode(size_t node, uint32_t method, std::span<const std::byte> message,
                                                     std::span<const iovec> payload, std::optional<uint32_t> payload_crc,
                                                     PayloadLayout layout) {
  rpc::CallOptions call_options{.timeout = options_.timeout, .payload_crc = payload_crc};
  call_options.response_payload_layout = std::move(layout);
  auto answer = co_await rpc_.Call(nodes_[node].address, method, message, payload, std::move(call_options));
  if (!answer.ok() && NodeUnreachable(answer.status())) co_await NodeFailed(node);
  co_return answer;
}

Task<Result<KvNamespace>> KvClientCore::OpenNamespace(const KvNamespaceOptions& options) {
  CO_ASSIGN_OR_RETURN(std::string name, KvNamespaceName(options));
  kv::KvOpenNamespaceRequest request;
  request.spec = {.name = std::move(name), .replicas = options.replicas, .quota_bytes = options.quota_bytes,
                  .value_bytes_max = options.value_bytes_max, .pieces_max = options.pieces_max,
                  .default_ttl_s = options.default_ttl_s};
  rpc::MessageBuffer message = rpc::EncodeMessage(request);
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await rpc_.Call(meta_, meta::kKvOpenNamespaceMethod, message.span(), {},
                                                                 {.timeout = options_.timeout}));
  CO_ASSIGN_OR_RETURN(kv::KvNamespaceResponse response, kv::DecodeKvNamespaceResponse(answer.message.span()));
  co_return KvNamespace{.id = response.spec.id, .name = response.spec.name, .replicas = response.spec.replicas,
                        .quota_bytes = response.spec.quota_bytes, .value_bytes_max = response.spec.value_bytes_max,
                        .default_ttl_s = response.spec.default_ttl_s};
}

// --- put

Task<std::vector<Result<KvPutResult>>> KvClientCore::BatchPut(const KvNamespace& ns, std::span<const KvPutItem> items) {
  co_await RefreshIfDue();
  Plan plan(nodes_.size());
  for (size_t i = 0; i < items.size(); i++) {
    for (size_t node : Replicas(items[i].key, ns.replicas)) plan[node].push_back(i);
  }
  std::vector<std::vector<Result<KvPutResult>>> replies(items.size());
  std::vector<Task<void>> calls;
  for (size_t node = 0; node < plan.size(); node++) {
    if (!plan[node].empty()) calls.push_back(PutOnNode(node, ns.id, items, plan[node], replies));
  }
  co_await WhenAll(std::move(calls));
  // Stored where any replica stored it; an error only if no replica took it.
  std::vector<Result<KvPutResult>> results;
  results.reserve(items.size());
  for (auto& item_replies : replies) {
    Result<KvPutResult> result = Status::Unavailable("no storage node is up to take the entry");
    for (auto& reply : item_replies) {
      if (reply.ok()) {
        if (!result.ok() || *reply == KvPutResult::kStored) result = *reply;
      } else if (!result.ok() && NodeUnreachable(result.status())) {
        result = reply.status();
      }
    }
    results.push_back(std::move(result));
  }
  co_return results;
}

Task<void> KvClientCore::PutOnNode(size_t node, uint32_t ns, std::span<const KvPutItem> items,
                                   const std::vector<size_t>& all,
                                   std::vector<std::vector<Result<KvPutResult>>>& replies) {
  std::vector<size_t> indexes = all;
  std::vector<size_t> shared;
  const shm::SharedRegion* region = co_await TakeShared(node, items, indexes, shared);
  for (const std::vector<size_t>& chunk : Chunks(items, shared)) {
    // The node copies each value out of the region, checking its CRC as it does.
    kv::KvShmPutRequest request{.ns = ns, .region = region->id()};
    for (size_t index : chunk) {
      request.entries.push_back(EntryOf(items[index]));
      request.sources.push_back(*region->OffsetOf(items[index].pieces.front()));
    }
    rpc::MessageBuffer message = rpc::EncodeMessage(request);
    auto answer = co_await CallNode(node, kv::kKvShmPutMethod, message.span());
    if (!answer.ok() && answer.status().code() == StatusCode::kNotFound) {
      nodes_[node].shared.erase(region->id());  // the node restarted: TCP now, register again later
      indexes.insert(indexes.end(), chunk.begin(), chunk.end());
      continue;
    }
    TakePutOutcomes(chunk, answer, replies);
  }
  for (const std::vector<size_t>& chunk : Chunks(items, indexes)) {
    kv::KvPutRequest request;
    request.ns = ns;
    request.entries.reserve(chunk.size());
    std::vector<iovec> payload;
    uint32_t payload_crc = 0;
    for (size_t index : chunk) {
      const KvPutItem& item = items[index];
      kv::KvPutEntry entry = EntryOf(item);
      for (const auto& piece : item.pieces) payload.push_back({const_cast<std::byte*>(piece.data()), piece.size()});
      payload_crc = Crc32cCombine(payload_crc, entry.value_crc, entry.value_bytes);
      request.entries.push_back(std::move(entry));
    }
    rpc::MessageBuffer message = rpc::EncodeMessage(request);
    auto answer = co_await CallNode(node, kv::kKvPutMethod, message.span(), payload, payload_crc);
    TakePutOutcomes(chunk, answer, replies);
  }
}

// --- get

Task<std::vector<Result<bool>>> KvClientCore::BatchGet(const KvNamespace& ns, std::span<const KvGetItem> items) {
  std::vector<KvKey> keys;
  std::vector<uint64_t> expected;
  keys.reserve(items.size());
  for (const KvGetItem& item : items) {
    keys.push_back(item.key);
    expected.push_back(ValueBytes(item));
  }
  // Scatter each value into its piece buffers, if they match the stored pieces.
  const ValueSink scatter = [&](size_t index, const kv::KvGetEntry& entry, std::span<const std::byte> value) -> Status {
    const KvGetItem& item = items[index];
    bool fits = entry.piece_bytes.size() == item.pieces.size();
    for (size_t p = 0; fits && p < item.pieces.size(); p++) fits = item.pieces[p].size() == entry.piece_bytes[p];
    if (!fits) {
      return Status::InvalidArgument(fmt::format("key {} holds {} pieces of {} bytes in all; {} buffers of {} bytes were given",
                                                 item.key.Hex(), entry.piece_bytes.size(), entry.value_bytes,
                                                 item.pieces.size(), ValueBytes(item)));
    }
    uint64_t offset = 0;
    for (const auto& piece : item.pieces) {
      std::memcpy(piece.data(), value.data() + offset, piece.size());
      offset += piece.size();
    }
    return Status::Ok();
  };
  co_return co_await GetFromReplicas(ns, keys, expected, items, scatter);
}

Task<std::vector<Result<std::optional<std::string>>>> KvClientCore::GetOwned(const KvNamespace& ns,
                                                                             std::span<const KvKey> keys) {
  std::vector<std::optional<std::string>> values(keys.size());
  const ValueSink keep = [&](size_t index, const kv::KvGetEntry&, std::span<const std::byte> value) -> Status {
    values[index].emplace(reinterpret_cast<const char*>(value.data()), value.size());
    return Status::Ok();
  };
  std::vector<Result<bool>> found = co_await GetFromReplicas(ns, keys, {}, {}, keep);
  std::vector<Result<std::optional<std::string>>> results;
  results.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); i++) {
    if (!found[i].ok()) results.push_back(found[i].status());
    else results.push_back(std::move(values[i]));
  }
  co_return results;
}

Task<std::vector<Result<bool>>> KvClientCore::GetFromReplicas(const KvNamespace& ns, std::span<const KvKey> keys,
                                                              std::span<const uint64_t> expected_bytes,
                                                              std::span<const KvGetItem> targets, const ValueSink& sink) {
  co_await RefreshIfDue();
  std::vector<Result<bool>> results(keys.size(), Result<bool>(false));
  std::vector<std::vector<size_t>> replicas(keys.size());
  for (size_t i = 0; i < keys.size(); i++) replicas[i] = Replicas(keys[i], ns.replicas);
  // Round r asks each key's r-th replica, for the keys whose earlier replicas did not answer.
  std::vector<bool> unreachable(keys.size(), true);
  for (size_t round = 0; round < ns.replicas; round++) {
    Plan plan(nodes_.size());
    for (size_t i = 0; i < keys.size(); i++) {
      if (unreachable[i] && round < replicas[i].size()) plan[replicas[i][round]].push_back(i);
      unreachable[i] = false;
    }
    std::vector<Task<void>> calls;
    for (size_t node = 0; node < plan.size(); node++) {
      if (plan[node].empty()) continue;
      // Calls within the limits: by count, and by the bytes expected back when known.
      std::vector<std::vector<size_t>> chunks;
      uint64_t bytes = 0;
      for (size_t index : plan[node]) {
        const uint64_t value = expected_bytes.empty() ? 0 : expected_bytes[index];
        if (chunks.empty() || chunks.back().size() == kv::kKvBatchMax || bytes + value > kv::kKvBatchBytesMax) {
          chunks.emplace_back();
          bytes = 0;
        }
        chunks.back().push_back(index);
        bytes += value;
      }
      for (std::vector<size_t>& chunk : chunks) {
        calls.push_back(GetFromNode(node, ns.id, keys, std::move(chunk), targets, sink, results, unreachable));
      }
    }
    if (calls.empty()) break;
    co_await WhenAll(std::move(calls));
  }
  co_return results;  // keys no replica answered for are misses: a cache's entries can vanish
}

Task<void> KvClientCore::GetFromNode(size_t node, uint32_t ns, std::span<const KvKey> keys,
                                     std::vector<size_t> indexes, std::span<const KvGetItem> targets,
                                     const ValueSink& sink, std::vector<Result<bool>>& results,
                                     std::vector<bool>& unreachable) {
  if (!targets.empty()) {
    std::vector<size_t> shared;
    const shm::SharedRegion* region = co_await TakeShared(node, targets, indexes, shared);
    if (region != nullptr) {
      const bool done = co_await ShmGetFromNode(node, ns, keys, shared, targets, *region, results, unreachable);
      if (!done) indexes.insert(indexes.end(), shared.begin(), shared.end());
    }
    if (indexes.empty()) co_return;
  }
  kv::KvKeysRequest request{.ns = ns};
  request.keys.reserve(indexes.size());
  for (size_t index : indexes) request.keys.push_back(keys[index]);
  rpc::MessageBuffer message = rpc::EncodeMessage(request);
  // With targets, the values are received straight into the caller's piece buffers: the
  // layout is made from the entries, which arrive before the values. A value whose pieces do
  // not match its buffers lands in scratch memory and is refused below.
  bool scattered = false;
  std::optional<kv::KvGetResponse> decoded;  // by the layout, so the message is decoded once
  std::vector<bool> mismatched(indexes.size(), false);
  std::vector<std::byte> scratch;
  PayloadLayout layout;
  if (!targets.empty()) {
    layout = [&](std::span<const std::byte> bytes, size_t payload_bytes) -> std::vector<iovec> {
      auto response = kv::DecodeKvGetResponse(bytes);
      if (!response.ok() || response->entries.size() != indexes.size()) return {};
      uint64_t scratch_bytes = 0, total = 0;
      for (size_t i = 0; i < indexes.size(); i++) {
        const kv::KvGetEntry& entry = response->entries[i];
        if (entry.code != StatusCode::kOk || !entry.found) continue;
        const KvGetItem& item = targets[indexes[i]];
        bool fits = entry.piece_bytes.size() == item.pieces.size();
        for (size_t p = 0; fits && p < item.pieces.size(); p++) fits = item.pieces[p].size() == entry.piece_bytes[p];
        mismatched[i] = !fits;
        if (!fits) scratch_bytes += entry.value_bytes;
        total += entry.value_bytes;
      }
      if (total != payload_bytes) return {};
      scratch.resize(scratch_bytes);
      std::vector<iovec> parts;
      uint64_t scratch_at = 0;
      for (size_t i = 0; i < indexes.size(); i++) {
        const kv::KvGetEntry& entry = response->entries[i];
        if (entry.code != StatusCode::kOk || !entry.found) continue;
        if (mismatched[i]) {
          parts.push_back({scratch.data() + scratch_at, entry.value_bytes});
          scratch_at += entry.value_bytes;
          continue;
        }
        for (const auto& piece : targets[indexes[i]].pieces) parts.push_back({piece.data(), piece.size()});
      }
      scattered = true;
      decoded = std::move(*response);
      return parts;
    };
  }
  auto answer = co_await CallNode(node, kv::kKvGetMethod, message.span(), {}, {}, std::move(layout));
  if (!answer.ok()) {
    for (size_t index : indexes) {
      if (NodeUnreachable(answer.status())) unreachable[index] = true;
      else results[index] = answer.status();
    }
    co_return;
  }
  Result<kv::KvGetResponse> response =
      decoded ? Result<kv::KvGetResponse>(std::move(*decoded)) : kv::DecodeKvGetResponse(answer->message.span());
  if (response.ok() && response->entries.size() != indexes.size()) {
    response = Status::Internal("a storage node answered another number of entries than asked");
  }
  if (!response.ok()) {
    for (size_t index : indexes) results[index] = response.status();
    co_return;
  }
  // The payload's CRC was checked on arrival; each value went to its buffers, or goes to the
  // sink now. (Scattered only if the payload was received so, not into the pooled buffer.)
  scattered = scattered && answer->payload.size() == 0;
  const std::span<const std::byte> payload =
      scattered ? std::span<const std::byte>() : answer->payload.span().first(answer->payload_bytes);
  uint64_t at = 0;
  for (size_t i = 0; i < indexes.size(); i++) {
    const kv::KvGetEntry& entry = response->entries[i];
    if (entry.code != StatusCode::kOk) {
      results[indexes[i]] = Status(entry.code, entry.message);
      continue;
    }
    if (!entry.found) continue;
    if (!scattered && at + entry.value_bytes > payload.size()) {
      results[indexes[i]] = Status::Internal("a storage node sent fewer bytes than its entries say");
      break;
    }
    Status taken = Status::Ok();
    if (!scattered) {
      taken = sink(indexes[i], entry, payload.subspan(at, entry.value_bytes));
      at += entry.value_bytes;
    } else if (mismatched[i]) {
      const KvGetItem& item = targets[indexes[i]];
      taken = Status::InvalidArgument(fmt::format("key {} holds {} pieces of {} bytes in all; {} buffers were given",
                                                  item.key.Hex(), entry.piece_bytes.size(), entry.value_bytes,
                                                  item.pieces.size()));
    }
    if (taken.ok()) results[indexes[i]] = true;
    else results[indexes[i]] = taken;
  }
}

Task<bool> KvClientCore::ShmGetFromNode(size_t node, uint32_t ns, std::span<const KvKey> keys,
                                        const std::vector<size_t>& indexes, std::span<const KvGetItem> targets,
                                        const shm::SharedRegion& region, std::vector<Result<bool>>& results,
                                        std::vector<bool>& unreachable) {
  // The node copies each value's pieces straight into their buffers in the region.
  kv::KvShmGetRequest request{.ns = ns, .region = region.id()};
  for (size_t index : indexes) {
    request.keys.push_back(keys[index]);
    std::vector<kv::KvShmSpan>& pieces = request.pieces.emplace_back();
    for (const auto& piece : targets[index].pieces) {
      pieces.push_back({.offset = *region.OffsetOf(piece), .bytes = static_cast<uint32_t>(piece.size())});
    }
  }
  rpc::MessageBuffer message = rpc::EncodeMessage(request);
  auto answer = co_await CallNode(node, kv::kKvShmGetMethod, message.span());
  if (!answer.ok() && answer.status().code() == StatusCode::kNotFound) {
    nodes_[node].shared.erase(region.id());  // the node restarted: TCP now, register again later
    co_return false;
  }
  if (!answer.ok()) {
    for (size_t index : indexes) {
      if (NodeUnreachable(answer.status())) unreachable[index] = true;
      else results[index] = answer.status();
    }
    co_return true;
  }
  Result<kv::KvGetResponse> response = kv::DecodeKvGetResponse(answer->message.span());
  if (response.ok() && response->entries.size() != indexes.size()) {
    response = Status::Internal("a storage node answered another number of entries than asked");
  }
  for (size_t i = 0; i < indexes.size(); i++) {
    if (!response.ok()) {
      results[indexes[i]] = response.status();
      continue;
    }
    const kv::KvGetEntry& entry = response->entries[i];
    if (entry.code != StatusCode::kOk) results[indexes[i]] = Status(entry.code, entry.message);
    else results[indexes[i]] = entry.found;
  }
  co_return true;
}

// --- exists, ttl, remove, pin, unpin, expire

Task<std::vector<Result<kv::KvOutcome>>> KvClientCore::OnFirstReplica(uint32_t method, const KvNamespace& ns,
                                                                     std::span<const KvKey> keys, bool lease) {
  co_await RefreshIfDue();
  // A key no replica answers for is absent, as a get would find it.
  const kv::KvOutcome absent{.flag = false, .number = -2};
  std::vector<Result<kv::KvOutcome>> results(keys.size(), Result<kv::KvOutcome>(absent));
  std::vector<std::vector<size_t>> replicas(keys.size());
  for (size_t i = 0; i < keys.size(); i++) replicas[i] = Replicas(keys[i], ns.replicas);
  std::vector<bool> unreachable(keys.size(), true);
  const kv::KvKeysRequest shape{.ns = ns.id, .lease = lease};
  for (size_t round = 0; round < ns.replicas; round++) {
    Plan plan(nodes_.size());
    for (size_t i = 0; i < keys.size(); i++) {
      if (unreachable[i] && round < replicas[i].size()) plan[replicas[i][round]].push_back(i);
      unreachable[i] = false;
    }
    std::vector<Task<void>> calls;
    for (size_t node = 0; node < plan.size(); node++) {
      if (!plan[node].empty()) calls.push_back(KeysOnNode(node, method, shape, keys, plan[node], results, unreachable));
    }
    if (calls.empty()) break;
    co_await WhenAll(std::move(calls));
  }
  co_return results;
}

Task<Result<std::vector<bool>>> KvClientCore::BatchExists(const KvNamespace& ns, std::span<const KvKey> keys, bool lease) {
  std::vector<Result<kv::KvOutcome>> outcomes = co_await OnFirstReplica(kv::kKvExistsMethod, ns, keys, lease);
  std::vector<bool> present(keys.size());
  for (size_t i = 0; i < keys.size(); i++) {
    if (!outcomes[i].ok()) co_return outcomes[i].status();
    present[i] = outcomes[i]->flag;
  }
  co_return present;
}

Task<std::vector<Result<int64_t>>> KvClientCore::TimeToLive(const KvNamespace& ns, std::span<const KvKey> keys) {
  std::vector<Result<kv::KvOutcome>> outcomes = co_await OnFirstReplica(kv::kKvTtlMethod, ns, keys, false);
  std::vector<Result<int64_t>> seconds;
  seconds.reserve(keys.size());
  for (auto& outcome : outcomes) {
    if (!outcome.ok()) seconds.push_back(outcome.status());
    else seconds.push_back(outcome->number);
  }
  co_return seconds;
}

Task<std::vector<Result<bool>>> KvClientCore::OnEveryReplica(uint32_t method, const KvNamespace& ns,
                                                             std::span<const KvKey> keys, uint32_t ttl_s) {
  co_await RefreshIfDue();
  Plan plan(nodes_.size());
  for (size_t i = 0; i < keys.size(); i++) {
    for (size_t node : Replicas(keys[i], ns.replicas)) plan[node].push_back(i);
  }
  // Each node's answers apart, then merged per key: true (some replica had it) wins, then an
  // error, then false.
  const kv::KvKeysRequest shape{.ns = ns.id, .ttl_s = ttl_s};
  std::vector<std::vector<Result<kv::KvOutcome>>> per_node(plan.size());
  std::vector<std::vector<bool>> unreachable_per_node(plan.size());
  std::vector<Task<void>> calls;
  for (size_t node = 0; node < plan.size(); node++) {
    if (plan[node].empty()) continue;
    per_node[node].assign(keys.size(), Result<kv::KvOutcome>(kv::KvOutcome{}));
    unreachable_per_node[node].assign(keys.size(), false);
    calls.push_back(KeysOnNode(node, method, shape, keys, plan[node], per_node[node], unreachable_per_node[node]));
  }
  co_await WhenAll(std::move(calls));
  std::vector<Result<bool>> results(keys.size(), Result<bool>(false));
  for (size_t node = 0; node < plan.size(); node++) {
    for (size_t i : plan[node]) {
      const Result<kv::KvOutcome>& reply = per_node[node][i];
      if (reply.ok() && reply->flag) results[i] = true;
      else if (!reply.ok() && results[i].ok() && !*results[i]) results[i] = reply.status();
    }
  }
  co_return results;
}

Task<void> KvClientCore::KeysOnNode(size_t node, uint32_t method, const kv::KvKeysRequest& shape,
                                    std::span<const KvKey> keys, const std::vector<size_t>& indexes,
                                    std::vector<Result<kv::KvOutcome>>& results, std::vector<bool>& unreachable) {
  for (size_t from = 0; from < indexes.size(); from += kv::kKvBatchMax) {
    const size_t to = std::min<size_t>(indexes.size(), from + kv::kKvBatchMax);
    kv::KvKeysRequest request{.ns = shape.ns, .lease = shape.lease, .ttl_s = shape.ttl_s};
    for (size_t i = from; i < to; i++) request.keys.push_back(keys[indexes[i]]);
    rpc::MessageBuffer message = rpc::EncodeMessage(request);
    auto answer = co_await CallNode(node, method, message.span());
    Result<kv::KvOutcomesResponse> response =
        answer.ok() ? kv::DecodeKvOutcomesResponse(answer->message.span()) : Result<kv::KvOutcomesResponse>(answer.status());
    if (response.ok() && response->outcomes.size() != to - from) {
      response = Status::Internal("a storage node answered another number of keys than asked");
    }
    for (size_t i = from; i < to; i++) {
      const size_t index = indexes[i];
      if (!response.ok()) {
        if (NodeUnreachable(response.status())) unreachable[index] = true;
        else results[index] = response.status();
        continue;
      }
      kv::KvOutcome& outcome = response->outcomes[i - from];
      if (outcome.code != StatusCode::kOk) results[index] = Status(outcome.code, outcome.message);
      else results[index] = std::move(outcome);
    }
  }
}

Task<Result<KvStats>> KvClientCore::Stats() {
  KvStats stats;
  for (size_t node = 0; node < nodes_.size(); node++) {
    if (!nodes_[node].up) continue;
    auto answer = co_await CallNode(node, kv::kKvStatsMethod, {});
    if (!answer.ok()) continue;
    CO_ASSIGN_OR_RETURN(kv::KvStatsResponse s, kv::DecodeKvStatsResponse(answer->message.span()));
    stats.nodes++;
    stats.entries += s.entries;
    stats.dram_capacity_bytes += s.dram_capacity_bytes;
    stats.dram_used_bytes += s.dram_used_bytes;
    stats.live_value_bytes += s.live_value_bytes;
    stats.index_bytes += s.index_bytes;
    stats.gets += s.gets;
    stats.hits += s.hits;
    stats.puts += s.puts;
    stats.stored += s.stored;
    stats.evicted += s.evicted;
    stats.expired += s.expired;
    stats.ssd_capacity_bytes += s.ssd_capacity_bytes;
    stats.ssd_used_bytes += s.ssd_used_bytes;
    stats.ssd_hits += s.ssd_hits;
    stats.demoted += s.demoted;
    stats.promoted += s.promoted;
    stats.ssd_evicted += s.ssd_evicted;
    stats.shm_regions += s.shm_regions;
    stats.shm_bytes += s.shm_bytes;
  }
  if (stats.nodes == 0) co_return Status::Unavailable("no storage node answered");
  co_return stats;
}

}  // namespace cerulean::client
