#include "kv/kv_store.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/check.h"
#include "base/crc32c.h"

namespace cerulean::kv {
namespace {

constexpr Duration kTick = std::chrono::milliseconds(10);

KvKey KeyOf(const RecordHeader& header) {
  KvKey key;
  std::memcpy(key.bytes.data(), header.key, 32);
  return key;
}

uint32_t HeaderCrc(const RecordHeader& header) {
  return Crc32c(&header, offsetof(RecordHeader, header_crc));
}

}  // namespace

Result<std::unique_ptr<KvStore>> KvStore::Create(Env& env, const KvStoreOptions& options) {
  // At least 64 segments, so that the one leaving is under 2% of the tier: a full cache keeps
  // over 95% of its size in live values.
  const uint64_t segment_bytes =
      std::max<uint64_t>(64 << 10, std::min<uint64_t>(options.segment_bytes, options.dram_bytes / 64) / kRecordAlign * kRecordAlign);
  ASSIGN_OR_RETURN(std::unique_ptr<DramTier> dram, DramTier::Create(options.dram_bytes, segment_bytes));
  return std::unique_ptr<KvStore>(new KvStore(env, options, std::move(dram)));
}

KvStore::KvStore(Env& env, const KvStoreOptions& options, std::unique_ptr<DramTier> dram)
    : env_(env), options_(options), dram_(std::move(dram)),
      index_(options.expected_entries * 8 / 7 + 1), epoch_(env.Now()), released_(env) {
  dram_->set_on_release([this] { released_.Set(); });
}

void KvStore::SetNamespace(const KvNamespaceLimits& limits) {
  CHECK(limits.id != 0);
  namespaces_[limits.id].limits = limits;
}

const KvNamespaceLimits* KvStore::FindNamespace(uint32_t id) const {
  auto found = namespaces_.find(id);
  return found == namespaces_.end() ? nullptr : &found->second.limits;
}

uint64_t KvStore::NamespaceBytes(uint32_t id) const {
  auto found = namespaces_.find(id);
  return found == namespaces_.end() ? 0 : found->second.live_bytes;
}

Result<KvStore::NamespaceState*> KvStore::Namespace(uint32_t id) {
  auto found = namespaces_.find(id);
  if (found == namespaces_.end()) return Status::NotFound(fmt::format("KV namespace {} is not known here", id));
  return &found->second;
}

uint32_t KvStore::NowSeconds() const {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(env_.Now() - epoch_).count()) + 1;
}

uint32_t KvStore::NowTicks() const { return static_cast<uint32_t>((env_.Now() - epoch_) / kTick); }

bool KvStore::Expired(const KvEntry& entry) const { return entry.expires_s != 0 && NowSeconds() >= entry.expires_s; }

bool KvStore::Protected(const KvEntry& entry) const {
  if (entry.pins > 0) return true;
  // Wrap-around comparison: leases are short, ticks wrap after 497 days.
  return entry.lease_until != 0 && static_cast<int32_t>(entry.lease_until - NowTicks()) > 0;
}

void KvStore::Drop(KvEntry* entry) {
  auto found = namespaces_.find(entry->ns);
  if (found != namespaces_.end()) found->second.live_bytes -= entry->value_bytes;
  stats_.live_value_bytes -= entry->value_bytes;
  index_.Erase(entry);
}

KvEntry* KvStore::Live(uint32_t ns, const KvKey& key) {
  KvEntry* entry = index_.Find(ns, key);
  if (entry == nullptr) return nullptr;
  if (Expired(*entry)) {
    Drop(entry);
    stats_.expired++;
    return nullptr;
  }
  return entry;
}

Task<Result<PutOutcome>> KvStore::Put(uint32_t ns, const KvPut& put, CancelToken cancel) {
  CO_ASSIGN_OR_RETURN(NamespaceState * space, Namespace(ns));
  const KvNamespaceLimits& limits = space->limits;
  if (put.value.size() > limits.value_bytes_max) {
    co_return Status::OutOfRange(fmt::format("a value of {} bytes is over namespace '{}''s limit of {}", put.value.size(),
                                             limits.name, limits.value_bytes_max));
  }
  const uint32_t one_piece[1] = {static_cast<uint32_t>(put.value.size())};
  const std::span<const uint32_t> pieces = put.piece_bytes.empty() ? std::span<const uint32_t>(one_piece) : put.piece_bytes;
  if (pieces.size() > limits.pieces_max) {
    co_return Status::InvalidArgument(fmt::format("{} pieces, over the limit of {}", pieces.size(), limits.pieces_max));
  }
  uint64_t sum = 0;
  for (uint32_t piece : pieces) sum += piece;
  if (sum != put.value.size()) {
    co_return Status::InvalidArgument(fmt::format("pieces of {} bytes in all for a value of {}", sum, put.value.size()));
  }
  const uint64_t record_bytes = RecordBytes(static_cast<uint32_t>(pieces.size()), put.value.size());
  if (record_bytes > dram_->capacity() / 4) {
    co_return Status::OutOfRange(fmt::format("a value of {} bytes is over a quarter of the DRAM tier", put.value.size()));
  }
  stats_.puts++;
  if (Live(ns, put.key) != nullptr) co_return PutOutcome::kAlreadyPresent;
  // Room first; the key and the quota are looked at again once it is made, since another put
  // may have run meanwhile. From there to the insert nothing waits: no one sees a partial value.
  if (!dram_->HasRoom(record_bytes)) CO_RETURN_IF_ERROR(co_await MakeRoom(record_bytes, cancel));
  if (Live(ns, put.key) != nullptr) co_return PutOutcome::kAlreadyPresent;
  CO_ASSIGN_OR_RETURN(space, Namespace(ns));
  if (space->live_bytes + put.value.size() > space->limits.quota_bytes) {
    co_return Status::ResourceExhausted(fmt::format("namespace '{}' holds {} of its {} bytes here", space->limits.name,
                                                    space->live_bytes, space->limits.quota_bytes));
  }
  CHECK(dram_->HasRoom(record_bytes));
  const uint64_t offset = dram_->Reserve(record_bytes);
  std::byte* record = dram_->At(offset);
  std::memcpy(record + sizeof(RecordHeader), pieces.data(), pieces.size_bytes());
  std::byte* value = record + sizeof(RecordHeader) + pieces.size_bytes();
  // Copy and checksum a chunk at a time, so the CRC reads bytes still in the cache.
  uint32_t crc = 0;
  constexpr size_t kChunk = 256 << 10;
  for (size_t at = 0; at < put.value.size(); at += kChunk) {
    const size_t n = std::min(kChunk, put.value.size() - at);
    std::memcpy(value + at, put.value.data() + at, n);
    crc = Crc32c(value + at, n, crc);
  }
  RecordHeader header;
  header.magic = RecordHeader::kRecordMagic;
  header.record_bytes = static_cast<uint32_t>(record_bytes);
  header.ns = ns;
  header.value_bytes = static_cast<uint32_t>(put.value.size());
  header.piece_count = static_cast<uint32_t>(pieces.size());
  header.value_crc = crc;
  std::memcpy(header.key, put.key.bytes.data(), 32);
  header.header_crc = HeaderCrc(header);
  std::memcpy(record, &header, sizeof(header));
  if (put.value_crc && *put.value_crc != crc) {
    // The record stays in the log unindexed: dead, it leaves with its segment.
    co_return Status::DataLoss(fmt::format("value for key {} arrived with CRC {:#010x}, the bytes have {:#010x}",
                                           put.key.Hex(), *put.value_crc, crc));
  }
  KvEntry* entry = index_.Insert(ns, put.key);
  entry->value_bytes = header.value_bytes;
  entry->offset = offset;
  const uint32_t ttl = put.ttl_s != 0 ? put.ttl_s : space->limits.default_ttl_s;
  entry->expires_s = ttl == 0 ? 0 : NowSeconds() + ttl;
  entry->pins = put.pin ? 1 : 0;
  space->live_bytes += put.value.size();
  stats_.live_value_bytes += put.value.size();
  stats_.stored++;
  co_return PutOutcome::kStored;
}

Task<Status> KvStore::MakeRoom(uint64_t bytes, CancelToken cancel) {
  uint64_t kept_in_a_row = 0;
  while (!dram_->HasRoom(bytes)) {
    const uint64_t end = dram_->TailSegmentEnd();
    if (dram_->Held(dram_->tail(), end)) {
      // A response is still being sent from the oldest segment.
      released_.Reset();
      Status waited = co_await released_.Wait(cancel);
      if (!waited.ok()) {
        co_return Status::ResourceExhausted(
            fmt::format("no room in the KV DRAM tier: readers hold its oldest segment ({})", waited.ToString()));
      }
      continue;  // look again: another put may have evicted meanwhile
    }
    const uint64_t segment = end - dram_->tail();
    // A lap of the log in which every record had to stay: nothing can be freed.
    kept_in_a_row = EvictTailSegment() == 0 ? kept_in_a_row + segment : 0;
    if (kept_in_a_row >= dram_->capacity()) {
      co_return Status::ResourceExhausted("the KV DRAM tier is full of pinned or leased entries");
    }
  }
  co_return Status::Ok();
}

size_t KvStore::EvictTailSegment() {
  const uint64_t from = dram_->tail();
  const uint64_t to = dram_->TailSegmentEnd();
  struct Survivor {
    uint64_t offset;
    uint32_t bytes;
  };
  std::vector<Survivor> survivors;
  size_t freed = 0;
  for (uint64_t at = from; at < to;) {
    const RecordHeader& header = dram_->HeaderAt(at);
    const uint64_t next = at + header.record_bytes;
    if (header.magic == RecordHeader::kRecordMagic) {
      KvEntry* entry = index_.Find(header.ns, KeyOf(header));
      if (entry == nullptr || entry->offset != at) {
        freed++;  // removed, or a dead copy
      } else if (Expired(*entry)) {
          Drop(entry);
          stats_.expired++;
          freed++;
        } else if (Protected(*entry)) {
          survivors.push_back({at, header.record_bytes});
          stats_.kept_pinned_or_leased++;
        } else if ((entry->flags & KvEntry::kReferenced) != 0) {
          entry->flags &= static_cast<uint8_t>(~KvEntry::kReferenced);
          survivors.push_back({at, header.record_bytes});
          stats_.second_chances++;
        } else {
          Drop(entry);
          stats_.evicted++;
          freed++;
        }
    }
    at = next;
  }
  dram_->DropTail(to);
  // Survivors go to the head in order. Each lands at or before where it was (modulo the
  // arena), so memmove never overwrites a survivor not yet moved, and none meets the wrap.
  for (const Survivor& survivor : survivors) {
    const uint64_t moved_to = dram_->Reserve(survivor.bytes);
    std::memmove(dram_->At(moved_to), dram_->At(survivor.offset), survivor.bytes);
    const RecordHeader& header = dram_->HeaderAt(moved_to);
    KvEntry* entry = index_.Find(header.ns, KeyOf(header));
    CHECK(entry != nullptr);
    entry->offset = moved_to;
  }
  return freed;
}

Result<std::optional<KvValue>> KvStore::Get(uint32_t ns, const KvKey& key) {
  RETURN_IF_ERROR(Namespace(ns).status());
  stats_.gets++;
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return std::optional<KvValue>();
  const RecordHeader& header = dram_->HeaderAt(entry->offset);
  if (std::memcmp(header.key, key.bytes.data(), 32) != 0) return std::optional<KvValue>();  // 16-byte twin
  if (header.magic != RecordHeader::kRecordMagic || HeaderCrc(header) != header.header_crc) {
    return Status::DataLoss(fmt::format("KV record of key {} at {} has a bad header", key.Hex(), entry->offset));
  }
  entry->flags |= KvEntry::kReferenced;
  stats_.hits++;
  const std::byte* record = dram_->At(entry->offset);
  KvValue value;
  value.piece_bytes = {reinterpret_cast<const uint32_t*>(record + sizeof(RecordHeader)), header.piece_count};
  value.bytes = {record + sizeof(RecordHeader) + 4ull * header.piece_count, header.value_bytes};
  value.crc = header.value_crc;
  value.hold = dram_->Acquire(entry->offset, header.record_bytes);
  return std::optional<KvValue>(std::move(value));
}

Result<bool> KvStore::Exists(uint32_t ns, const KvKey& key, bool lease) {
  RETURN_IF_ERROR(Namespace(ns).status());
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return false;
  if (lease) entry->lease_until = std::max<uint32_t>(1, NowTicks() + static_cast<uint32_t>(options_.lease / kTick));
  return true;
}

Result<size_t> KvStore::LookupPrefix(uint32_t ns, std::span<const KvKey> keys, bool lease) {
  RETURN_IF_ERROR(Namespace(ns).status());
  size_t present = 0;
  for (const KvKey& key : keys) {
    ASSIGN_OR_RETURN(bool found, Exists(ns, key, lease));
    if (!found) break;
    present++;
  }
  return present;
}

Result<bool> KvStore::Remove(uint32_t ns, const KvKey& key) {
  RETURN_IF_ERROR(Namespace(ns).status());
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return false;
  Drop(entry);
  return true;
}

Result<bool> KvStore::Pin(uint32_t ns, const KvKey& key) {
  RETURN_IF_ERROR(Namespace(ns).status());
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return false;
  if (entry->pins == UINT16_MAX) return Status::ResourceExhausted(fmt::format("key {} has too many pins", key.Hex()));
  entry->pins++;
  return true;
}

Result<bool> KvStore::Unpin(uint32_t ns, const KvKey& key) {
  RETURN_IF_ERROR(Namespace(ns).status());
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return false;
  if (entry->pins == 0) return Status::FailedPrecondition(fmt::format("key {} is not pinned", key.Hex()));
  entry->pins--;
  return true;
}

Result<bool> KvStore::Expire(uint32_t ns, const KvKey& key, uint32_t ttl_s) {
  RETURN_IF_ERROR(Namespace(ns).status());
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return false;
  entry->expires_s = ttl_s == 0 ? 0 : NowSeconds() + ttl_s;
  return true;
}

Result<int64_t> KvStore::TimeToLive(uint32_t ns, const KvKey& key) {
  RETURN_IF_ERROR(Namespace(ns).status());
  const KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return int64_t{-2};
  if (entry->expires_s == 0) return int64_t{-1};
  return static_cast<int64_t>(entry->expires_s) - static_cast<int64_t>(NowSeconds());
}

KvStoreStats KvStore::Stats() const {
  KvStoreStats stats = stats_;
  stats.entries = index_.size();
  stats.dram_capacity_bytes = dram_->capacity();
  stats.dram_used_bytes = dram_->used_bytes();
  stats.index_bytes = index_.memory_bytes();
  return stats;
}

}  // namespace cerulean::kv
