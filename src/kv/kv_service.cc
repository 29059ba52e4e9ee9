#include "kv/kv_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/crc32c.h"
#include "shm/shm_handlers.h"

namespace cerulean::kv {
namespace {

// A batch's Gets are memory-bound: each waits for its index slot, then for its record's header.
// The slots of the whole batch are asked for up front, and each header a few keys ahead of its
// Get, so that those waits overlap instead of adding up.
class LookupPrefetcher {
 public:
  LookupPrefetcher(KvStore& store, uint32_t ns, std::span<const KvKey> keys) : store_(store), ns_(ns), keys_(keys) {
    for (const KvKey& key : keys_) store_.PrefetchEntry(ns_, key);
    for (size_t i = 0; i < std::min(kAhead, keys_.size()); i++) store_.PrefetchRecord(ns_, keys_[i]);
  }
  // Call before the Get of key i.
  void Before(size_t i) {
    if (i + kAhead < keys_.size()) store_.PrefetchRecord(ns_, keys_[i + kAhead]);
  }

 private:
  static constexpr size_t kAhead = 4;
  KvStore& store_;
  uint32_t ns_;
  std::span<const KvKey> keys_;
};

template <typename Message>
void Respond(rpc::RpcContext& context, const Message& message) {
  rpc::WireWriter writer(context.response_message);
  Encode(message, writer);
}

KvOutcome OutcomeOf(const Result<bool>& result) {
  if (!result.ok()) return {result.status().code(), std::string(result.status().message()), false};
  return {StatusCode::kOk, {}, *result};
}

}  // namespace

KvNamespaceLimits LimitsOnNode(const KvNamespaceSpec& spec, uint32_t nodes_up) {
  KvNamespaceLimits limits;
  limits.id = spec.id;
  limits.name = spec.name;
  limits.value_bytes_max = spec.value_bytes_max;
  limits.pieces_max = spec.pieces_max;
  limits.default_ttl_s = spec.default_ttl_s;
  if (spec.quota_bytes != 0) {
    const uint64_t nodes = std::max<uint32_t>(1, nodes_up);
    const uint64_t replicas = std::min<uint64_t>(spec.replicas, nodes);
    limits.quota_bytes = (spec.quota_bytes * replicas + nodes - 1) / nodes;
  }
  return limits;
}

void KvService::Register(rpc::ServiceRegistry& registry) {
  // Puts check each value's CRC in the pass that copies it into the cache.
  registry.Register(kKvPutMethod, "kv.put", [this](rpc::RpcContext& c) { return Put(c); },
                    /*handler_checks_payload_crc=*/true);
  registry.Register(kKvGetMethod, "kv.get", [this](rpc::RpcContext& c) { return Get(c); });
  registry.Register(kKvExistsMethod, "kv.exists", [this](rpc::RpcContext& c) { return Keys(c, KeyOp::kExists); });
  registry.Register(kKvRemoveMethod, "kv.remove", [this](rpc::RpcContext& c) { return Keys(c, KeyOp::kRemove); });
  registry.Register(kKvPinMethod, "kv.pin", [this](rpc::RpcContext& c) { return Keys(c, KeyOp::kPin); });
  registry.Register(kKvUnpinMethod, "kv.unpin", [this](rpc::RpcContext& c) { return Keys(c, KeyOp::kUnpin); });
  registry.Register(kKvStatsMethod, "kv.stats", [this](rpc::RpcContext& c) { return Stats(c); });
  registry.Register(kKvExpireMethod, "kv.expire", [this](rpc::RpcContext& c) { return Keys(c, KeyOp::kExpire); });
  registry.Register(kKvTtlMethod, "kv.ttl", [this](rpc::RpcContext& c) { return Keys(c, KeyOp::kTtl); });
  registry.Register(kKvShmRegisterMethod, "kv.shm_register", [this](rpc::RpcContext& c) { return shm::HandleRegister(regions_, c); });
  registry.Register(kKvShmUnregisterMethod, "kv.shm_unregister", [this](rpc::RpcContext& c) { return shm::HandleUnregister(regions_, c); });
  registry.Register(kKvShmGetMethod, "kv.shm_get", [this](rpc::RpcContext& c) { return ShmGet(c); });
  registry.Register(kKvShmPutMethod, "kv.shm_put", [this](rpc::RpcContext& c) { return ShmPut(c); });
}

Task<Status> KvService::EnsureNamespace(uint32_t ns) {
  if (ns == 0) co_return Status::InvalidArgument("KV namespace id 0 is never assigned");
  if (store_.FindNamespace(ns) != nullptr) co_return Status::Ok();
  if (!lookup_) co_return Status::NotFound(fmt::format("KV namespace {} is not known here", ns));
  CO_ASSIGN_OR_RETURN(KvNamespaceLimits limits, co_await lookup_(ns));
  store_.SetNamespace(limits);
  co_return Status::Ok();
}

Task<Status> KvService::Put(rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(KvPutRequest request, DecodeKvPutRequest(context.request_message.span()));
  CO_RETURN_IF_ERROR(co_await EnsureNamespace(request.ns));
  const std::span<const std::byte> payload = context.request_payload.span();
  uint64_t total = 0;
  for (const KvPutEntry& entry : request.entries) total += entry.value_bytes;
  if (total != payload.size()) {
    co_return Status::InvalidArgument(fmt::format("entries of {} bytes in all, a payload of {}", total, payload.size()));
  }
  std::vector<std::span<const std::byte>> values;
  values.reserve(request.entries.size());
  uint64_t at = 0;
  for (const KvPutEntry& entry : request.entries) {
    values.push_back(payload.subspan(at, entry.value_bytes));
    at += entry.value_bytes;
  }
  KvOutcomesResponse response;
  co_await PutEntries(request.ns, request.entries, values, context.cancel, response);
  Respond(context, response);
  co_return Status::Ok();
}

Task<void> KvService::PutEntries(uint32_t ns, std::span<const KvPutEntry> entries,
                                 std::span<const std::span<const std::byte>> values, CancelToken cancel,
                                 KvOutcomesResponse& response) {
  response.outcomes.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); i++) {
    const KvPutEntry& entry = entries[i];
    const KvPut put{.key = entry.key, .piece_bytes = entry.piece_bytes, .value = values[i],
                    .value_crc = entry.value_crc, .ttl_s = entry.ttl_s, .pin = entry.pin};
    auto outcome = co_await store_.Put(ns, put, cancel);
    if (!outcome.ok()) {
      response.outcomes.push_back({outcome.status().code(), std::string(outcome.status().message()), false});
    } else {
      response.outcomes.push_back({StatusCode::kOk, {}, *outcome == PutOutcome::kAlreadyPresent});
    }
  }
}

Task<Result<std::optional<KvValue>>> KvService::Found(uint32_t ns, const KvKey& key,
                                                      Result<std::optional<KvValue>> found) {
  if (!found.ok() || !found->has_value() || !(*found)->on_ssd) co_return found;
  Status read = co_await store_.ReadFromSsd(ns, key, **found);
  if (read.code() == StatusCode::kNotFound) co_return std::optional<KvValue>();  // it left the SSD tier meanwhile
  if (!read.ok()) co_return read;
  co_return found;
}

Task<Status> KvService::Get(rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(KvKeysRequest request, DecodeKvKeysRequest(context.request_message.span()));
  CO_RETURN_IF_ERROR(co_await EnsureNamespace(request.ns));
  KvGetResponse response;
  response.entries.resize(request.keys.size());
  uint64_t total = 0;
  uint32_t crc = 0;
  LookupPrefetcher prefetcher(store_, request.ns, request.keys);
  for (size_t i = 0; i < request.keys.size(); i++) {
    KvGetEntry& entry = response.entries[i];
    prefetcher.Before(i);
    auto found = store_.Get(request.ns, request.keys[i]);
    if (found.ok() && found->has_value() && (*found)->on_ssd) {
      found = co_await Found(request.ns, request.keys[i], std::move(found));
    }
    if (!found.ok()) {
      entry.code = found.status().code();
      entry.message = found.status().message();
      continue;
    }
    if (!found->has_value()) continue;
    KvValue& value = **found;
    if (total + value.bytes.size() > kKvBatchBytesMax) {
      entry.code = StatusCode::kOutOfRange;
      entry.message = fmt::format("the response is full at {} bytes: ask for this key again", total);
      continue;
    }
    entry.found = true;
    entry.value_bytes = value.bytes.size();
    entry.piece_bytes.assign(value.piece_bytes.begin(), value.piece_bytes.end());
    // Sent straight from the cache's memory, which the hold keeps in place until then.
    context.response_payload.push_back({const_cast<std::byte*>(value.bytes.data()), value.bytes.size()});
    if (value.ssd_record != nullptr) {
      context.response_payload_holds.push_back(std::move(value.ssd_record));
    } else {
      context.response_payload_holds.push_back(std::make_shared<DramTier::Hold>(std::move(value.hold)));
    }
    crc = Crc32cCombine(crc, value.crc, value.bytes.size());
    total += value.bytes.size();
  }
  context.response_payload_crc = crc;
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> KvService::Keys(rpc::RpcContext& context, KeyOp op) {
  CO_ASSIGN_OR_RETURN(KvKeysRequest request, DecodeKvKeysRequest(context.request_message.span()));
  CO_RETURN_IF_ERROR(co_await EnsureNamespace(request.ns));
  KvOutcomesResponse response;
  response.outcomes.reserve(request.keys.size());
  for (const KvKey& key : request.keys) {
    switch (op) {
      case KeyOp::kExists: response.outcomes.push_back(OutcomeOf(store_.Exists(request.ns, key, request.lease))); break;
      case KeyOp::kRemove: response.outcomes.push_back(OutcomeOf(store_.Remove(request.ns, key))); break;
      case KeyOp::kPin: response.outcomes.push_back(OutcomeOf(store_.Pin(request.ns, key))); break;
      case KeyOp::kUnpin: response.outcomes.push_back(OutcomeOf(store_.Unpin(request.ns, key))); break;
      case KeyOp::kExpire:
        response.outcomes.push_back(OutcomeOf(store_.Expire(request.ns, key, request.ttl_s)));
        break;
      case KeyOp::kTtl: {
        auto ttl = store_.TimeToLive(request.ns, key);
        KvOutcome outcome = OutcomeOf(ttl.ok() ? Result<bool>(*ttl != -2) : Result<bool>(ttl.status()));
        if (ttl.ok()) outcome.number = *ttl;
        response.outcomes.push_back(std::move(outcome));
        break;
      }
    }
  }
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> KvService::Stats(rpc::RpcContext& context) {
  const KvStoreStats stats = store_.Stats();
  KvStatsResponse response{.entries = stats.entries, .dram_capacity_bytes = stats.dram_capacity_bytes,
                           .dram_used_bytes = stats.dram_used_bytes, .live_value_bytes = stats.live_value_bytes,
                           .index_bytes = stats.index_bytes, .gets = stats.gets, .hits = stats.hits,
                           .puts = stats.puts, .stored = stats.stored, .evicted = stats.evicted,
                           .expired = stats.expired, .ssd_capacity_bytes = stats.ssd_capacity_bytes,
                           .ssd_used_bytes = stats.ssd_used_bytes, .ssd_hits = stats.ssd_hits,
                           .demoted = stats.demoted, .promoted = stats.promoted, .ssd_evicted = stats.ssd_evicted,
                           .shm_regions = regions_.size(), .shm_bytes = shm_bytes_};
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> KvService::ShmGet(rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(KvShmGetRequest request, DecodeKvShmGetRequest(context.request_message.span()));
  CO_RETURN_IF_ERROR(co_await EnsureNamespace(request.ns));
  CO_ASSIGN_OR_RETURN(std::shared_ptr<shm::ShmRegion> region, regions_.Find(request.region));
  KvGetResponse response;
  response.entries.resize(request.keys.size());
  uint64_t total = 0;
  LookupPrefetcher prefetcher(store_, request.ns, request.keys);
  for (size_t i = 0; i < request.keys.size(); i++) {
    KvGetEntry& entry = response.entries[i];
    prefetcher.Before(i);
    auto found = store_.Get(request.ns, request.keys[i]);
    if (found.ok() && found->has_value() && (*found)->on_ssd) {
      found = co_await Found(request.ns, request.keys[i], std::move(found));
    }
    if (!found.ok()) {
      entry.code = found.status().code();
      entry.message = found.status().message();
      continue;
    }
    if (!found->has_value()) continue;
    const KvValue& value = **found;
    const std::vector<KvShmSpan>& targets = request.pieces[i];
    bool fits = targets.size() == value.piece_bytes.size();
    for (size_t p = 0; fits && p < targets.size(); p++) fits = targets[p].bytes == value.piece_bytes[p];
    entry.piece_bytes.assign(value.piece_bytes.begin(), value.piece_bytes.end());
    entry.value_bytes = value.bytes.size();
    if (!fits) {
      entry.code = StatusCode::kInvalidArgument;
      entry.message = fmt::format("key {} holds {} pieces of {} bytes in all; {} buffers were given",
                                  request.keys[i].Hex(), value.piece_bytes.size(), value.bytes.size(), targets.size());
      continue;
    }
    if (total + value.bytes.size() > kKvBatchBytesMax) {
      entry.code = StatusCode::kOutOfRange;
      entry.message = fmt::format("the call has moved {} bytes already: ask for this key again", total);
      continue;
    }
    // Straight from the cache into the client's memory: the one copy of this path. The bytes
    // were verified on their way in (put, or the SSD read), as on the TCP path.
    Status copied = Status::Ok();
    uint64_t at = 0;
    for (const KvShmSpan& target : targets) {
      auto place = region->At(target.offset, target.bytes);
      if (!place.ok()) {
        copied = place.status();
        break;
      }
      std::memcpy(place->data(), value.bytes.data() + at, target.bytes);
      at += target.bytes;
    }
    if (!copied.ok()) {
      entry.code = copied.code();
      entry.message = copied.message();
      continue;
    }
    entry.found = true;
    total += value.bytes.size();
  }
  shm_bytes_ += total;
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> KvService::ShmPut(rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(KvShmPutRequest request, DecodeKvShmPutRequest(context.request_message.span()));
  CO_RETURN_IF_ERROR(co_await EnsureNamespace(request.ns));
  CO_ASSIGN_OR_RETURN(std::shared_ptr<shm::ShmRegion> region, regions_.Find(request.region));
  std::vector<std::span<const std::byte>> values;
  values.reserve(request.entries.size());
  for (size_t i = 0; i < request.entries.size(); i++) {
    CO_ASSIGN_OR_RETURN(std::span<std::byte> value, region->At(request.sources[i], request.entries[i].value_bytes));
    values.push_back(value);
  }
  // Each value is checked against the CRC the client computed, in the pass that copies it in.
  KvOutcomesResponse response;
  co_await PutEntries(request.ns, request.entries, values, context.cancel, response);
  for (size_t i = 0; i < values.size(); i++) {
    if (response.outcomes[i].code == StatusCode::kOk) shm_bytes_ += values[i].size();
  }
  Respond(context, response);
  co_return Status::Ok();
}

}  // namespace cerulean::kv
