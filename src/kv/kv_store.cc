#include "kv/kv_store.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/check.h"
#include "base/crc32c.h"
#include "base/logging.h"

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

// An entry's key as the index knows it (16 bytes; enough to find it again).
KvKey IndexKeyOf(const KvEntry& entry) {
  KvKey key;
  std::memcpy(key.bytes.data(), &entry.key_a, 8);
  std::memcpy(key.bytes.data() + 8, &entry.key_b, 8);
  return key;
}

uint64_t SsdLocation(uint32_t batch, uint64_t offset) { return uint64_t{batch} << 32 | offset; }
uint32_t SsdBatch(uint64_t location) { return static_cast<uint32_t>(location >> 32); }
uint32_t SsdOffset(uint64_t location) { return static_cast<uint32_t>(location); }

bool OnSsd(const KvEntry& entry) { return (entry.flags & KvEntry::kOnSsd) != 0; }

// Background promotions at once, at most: each holds an SSD record in memory.
constexpr size_t kPromotionsMax = 64;

}  // namespace

Result<std::unique_ptr<KvStore>> KvStore::Create(Env& env, const KvStoreOptions& options,
                                                 std::unique_ptr<SsdTier> ssd) {
  // At least 64 segments, so that the one leaving is under 2% of the tier: a full cache keeps
  // over 95% of its size in live values.
  const uint64_t segment_bytes =
      std::max<uint64_t>(64 << 10, std::min<uint64_t>(options.segment_bytes, options.dram_bytes / 64) / kRecordAlign * kRecordAlign);
  ASSIGN_OR_RETURN(std::unique_ptr<DramTier> dram, DramTier::Create(options.dram_bytes, segment_bytes));
  return std::unique_ptr<KvStore>(new KvStore(env, options, std::move(dram), std::move(ssd)));
}

KvStore::KvStore(Env& env, const KvStoreOptions& options, std::unique_ptr<DramTier> dram, std::unique_ptr<SsdTier> ssd)
    : env_(env), options_(options), dram_(std::move(dram)),
      index_(options.expected_entries * 8 / 7 + 1), epoch_(env.Now()), ssd_(std::move(ssd)), released_(env),
      promotions_(env) {
  dram_->set_on_release([this] { released_.Set(); });
}

KvStore::~KvStore() { CHECK(ssd_ == nullptr || closing_.token().cancelled()) << "KvStore with an SSD tier: Close() first"; }

Task<void> KvStore::Close() {
  closing_.Cancel(Status::Unavailable("KV store closing"));
  co_await promotions_.Join();
  if (ssd_ != nullptr) co_await ssd_->Close();
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
  entry->piece_count = header.piece_count;
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
    if (evicting_ || dram_->Held(dram_->tail(), end)) {
      // Another put is evicting, or a response is still being sent from the oldest segment.
      // (Woken by either ending; a wake whose flag another waiter lowered just looks again.)
      released_.Reset();
      co_await released_.Wait(cancel);
      if (cancel.cancelled()) {
        co_return Status::ResourceExhausted(fmt::format("no room in the KV DRAM tier: readers hold its oldest segment ({})",
                                                        cancel.reason().ToString()));
      }
      continue;  // look again: another put may have evicted meanwhile
    }
    const uint64_t segment = end - dram_->tail();
    evicting_ = true;
    Result<size_t> freed = co_await EvictTailSegment(cancel);
    evicting_ = false;
    released_.Set();
    if (!freed.ok()) co_return freed.status();
    // A lap of the log in which every record had to stay: nothing can be freed.
    kept_in_a_row = *freed == 0 ? kept_in_a_row + segment : 0;
    if (kept_in_a_row >= dram_->capacity()) {
      co_return Status::ResourceExhausted("the KV DRAM tier is full of pinned or leased entries");
    }
  }
  co_return Status::Ok();
}

bool KvStore::WasDemoted(const std::vector<Demoted>& demoted, size_t& next, uint64_t dram_offset) const {
  while (next < demoted.size() && demoted[next].dram_offset < dram_offset) next++;
  return next < demoted.size() && demoted[next].dram_offset == dram_offset && ssd_->Holds(SsdBatch(demoted[next].ssd_location));
}

Task<Result<size_t>> KvStore::EvictTailSegment(CancelToken cancel) {
  const uint64_t from = dram_->tail();
  const uint64_t to = dram_->TailSegmentEnd();
  std::vector<Demoted> demoted;
  if (ssd_ != nullptr) {
    demoted = co_await Demote(from, to);
    // Readers may have come to the segment while it was written out.
    while (dram_->Held(from, to)) {
      released_.Reset();
      co_await released_.Wait(cancel);
      if (cancel.cancelled()) {
        co_return Status::ResourceExhausted(fmt::format("no room in the KV DRAM tier: readers hold its oldest segment ({})",
                                                        cancel.reason().ToString()));
      }
    }
  }
  // The fate of each record is decided here, with nothing awaited until the segment is gone:
  // what the demotion wrote counts only for entries that are still where it found them.
  struct Survivor {
    uint64_t offset;
    uint32_t bytes;
  };
  std::vector<Survivor> survivors;
  size_t freed = 0;
  size_t next_demoted = 0;
  for (uint64_t at = from; at < to;) {
    const RecordHeader& header = dram_->HeaderAt(at);
    const uint64_t next = at + header.record_bytes;
    if (header.magic == RecordHeader::kRecordMagic) {
      KvEntry* entry = index_.Find(header.ns, KeyOf(header));
      if (entry == nullptr || OnSsd(*entry) || entry->offset != at) {
        freed++;  // removed, or a dead copy
      } else if (Expired(*entry)) {
        Drop(entry);
        stats_.expired++;
        freed++;
      } else if (Protected(*entry) && !WasDemoted(demoted, next_demoted, at)) {
        survivors.push_back({at, header.record_bytes});
        stats_.kept_pinned_or_leased++;
      } else if (!Protected(*entry) && (entry->flags & KvEntry::kReferenced) != 0) {
        entry->flags &= static_cast<uint8_t>(~KvEntry::kReferenced);
        survivors.push_back({at, header.record_bytes});
        stats_.second_chances++;
      } else {
        if (WasDemoted(demoted, next_demoted, at)) {
          entry->offset = demoted[next_demoted].ssd_location;
          entry->flags |= KvEntry::kOnSsd;
          stats_.demoted++;
        } else {
          Drop(entry);
          stats_.evicted++;
        }
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
  co_return freed;
}

Task<std::vector<KvStore::Demoted>> KvStore::Demote(uint64_t from, uint64_t to) {
  // The records that would leave DRAM now: live ones not read since their last chance, and
  // pinned or leased ones (protected from leaving the cache, not from leaving DRAM: a lease
  // rate over the DRAM tier's size would otherwise fill it and refuse every put).
  std::vector<uint64_t> offsets;
  std::vector<std::span<const std::byte>> records;
  for (uint64_t at = from; at < to;) {
    const RecordHeader& header = dram_->HeaderAt(at);
    if (header.magic == RecordHeader::kRecordMagic && header.record_bytes <= ssd_->batch_bytes_max()) {
      const KvEntry* entry = index_.Find(header.ns, KeyOf(header));
      if (entry != nullptr && !OnSsd(*entry) && entry->offset == at && !Expired(*entry) &&
          (Protected(*entry) || (entry->flags & KvEntry::kReferenced) == 0)) {
        offsets.push_back(at);
        records.push_back({dram_->At(at), header.record_bytes});
      }
    }
    at += header.record_bytes;
  }
  std::vector<Demoted> demoted;
  if (records.empty()) co_return demoted;
  Result<std::vector<uint64_t>> locations = co_await WriteBatches(std::move(records));
  if (!locations.ok()) {
    // The cache goes on without its SSD tier for these: they are evicted instead.
    if (stats_.ssd_errors++ == 0) LOG_WARN("KV SSD tier: demotion failed: {}", locations.status().ToString());
    co_return demoted;
  }
  for (size_t i = 0; i < locations->size(); i++) demoted.push_back({offsets[i], (*locations)[i]});
  co_return demoted;
}

Task<Result<std::vector<uint64_t>>> KvStore::WriteBatches(std::vector<std::span<const std::byte>> records) {
  std::vector<uint64_t> locations;
  size_t first = 0;
  while (first < records.size()) {
    uint64_t bytes = 0;
    size_t last = first;
    while (last < records.size() && bytes + records[last].size() <= ssd_->batch_bytes_max()) bytes += records[last++].size();
    Status room = co_await MakeSsdRoom(bytes);
    if (!room.ok()) {
      if (locations.empty()) co_return room;
      break;  // what was written stays demoted
    }
    // The DRAM records stay in place meanwhile: the tail segment leaves only after this.
    PooledBuffer batch = PooledBuffer::Allocate(bytes);
    std::vector<uint32_t> offsets;
    uint64_t at = 0;
    for (size_t i = first; i < last; i++) {
      std::memcpy(batch.data() + at, records[i].data(), records[i].size());
      offsets.push_back(static_cast<uint32_t>(at));
      at += records[i].size();
    }
    Result<uint32_t> written = co_await ssd_->Write(std::move(batch));
    if (!written.ok()) {
      if (locations.empty()) co_return written.status();
      break;
    }
    for (uint32_t offset : offsets) locations.push_back(SsdLocation(*written, offset));
    first = last;
  }
  co_return locations;
}

Task<Status> KvStore::MakeSsdRoom(uint64_t bytes) {
  while (!ssd_->HasRoom(bytes)) {
    Status dropped = co_await DropOldestSsdExtent();
    if (!dropped.ok()) co_return dropped;
  }
  co_return Status::Ok();
}

Task<Status> KvStore::DropOldestSsdExtent() {
  const uint32_t first = ssd_->first_batch();
  const uint32_t end = ssd_->OldestExtentBatchEnd();
  auto leaving = [&](const KvEntry& entry) {
    return OnSsd(entry) && SsdBatch(entry.offset) - first < end - first;
  };
  // Pinned and leased entries are carried forward into a batch of their own.
  struct Carry {
    uint32_t ns;
    KvKey key;
    uint64_t from;
    uint32_t bytes;
    uint32_t at = 0;
    bool read = false;
  };
  std::vector<Carry> carries;
  uint64_t carry_bytes = 0;
  index_.ForEach([&](KvEntry& entry) {
    if (!leaving(entry) || Expired(entry) || !Protected(entry)) return;
    const auto bytes = static_cast<uint32_t>(RecordBytes(entry.piece_count, entry.value_bytes));
    carries.push_back({.ns = entry.ns, .key = IndexKeyOf(entry), .from = entry.offset, .bytes = bytes,
                       .at = static_cast<uint32_t>(carry_bytes)});
    carry_bytes += bytes;
  });
  if (carry_bytes > ssd_->batch_bytes_max()) {
    co_return Status::ResourceExhausted(fmt::format(
        "the KV SSD tier's oldest extent holds {} bytes of pinned or leased entries, over a batch", carry_bytes));
  }
  PooledBuffer carry_batch;
  if (!carries.empty()) {
    carry_batch = PooledBuffer::Allocate(carry_bytes);
    for (Carry& carry : carries) {
      Result<storage::ReadResult> record = co_await ssd_->Read(SsdBatch(carry.from), SsdOffset(carry.from), carry.bytes);
      if (!record.ok()) {
        stats_.ssd_errors++;
        continue;  // not carried: it leaves with the extent
      }
      std::memcpy(carry_batch.data() + carry.at, record->bytes().data(), carry.bytes);
      carry.read = true;
    }
  }
  CO_RETURN_IF_ERROR(co_await ssd_->DropOldest());
  std::optional<uint32_t> carried_to;
  if (!carries.empty()) {
    Result<uint32_t> written = co_await ssd_->Write(std::move(carry_batch));
    if (written.ok()) {
      carried_to = *written;
    } else {
      stats_.ssd_errors++;
    }
  }
  // Now, with nothing awaited until the end: entries of the extent are carried or dropped.
  std::vector<std::pair<uint32_t, KvKey>> dropped;
  index_.ForEach([&](KvEntry& entry) {
    if (!leaving(entry)) return;
    if (carried_to) {
      for (const Carry& carry : carries) {
        if (carry.read && carry.from == entry.offset && carry.ns == entry.ns) {
          entry.offset = SsdLocation(*carried_to, carry.at);
          stats_.ssd_carried++;
          return;
        }
      }
    }
    dropped.emplace_back(entry.ns, IndexKeyOf(entry));
  });
  for (const auto& [ns, key] : dropped) {
    KvEntry* entry = index_.Find(ns, key);
    if (entry != nullptr) {
      Drop(entry);
      stats_.ssd_evicted++;
    }
  }
  co_return Status::Ok();
}

Task<Status> KvStore::ReadFromSsd(uint32_t ns, const KvKey& key, KvValue& value) {
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr || !OnSsd(*entry) || ssd_ == nullptr) co_return Status::NotFound("the entry left the SSD tier");
  const uint64_t location = entry->offset;
  const uint64_t bytes = RecordBytes(entry->piece_count, entry->value_bytes);
  Result<storage::ReadResult> read = co_await ssd_->Read(SsdBatch(location), SsdOffset(location), bytes);
  auto drop_if_still_there = [&] {
    KvEntry* now = Live(ns, key);
    if (now != nullptr && OnSsd(*now) && now->offset == location) Drop(now);
  };
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kNotFound) co_return read.status();  // its extent left
    stats_.ssd_errors++;
    drop_if_still_there();
    co_return read.status();
  }
  auto record = std::make_shared<storage::ReadResult>(std::move(*read));
  const std::span<const std::byte> raw = record->bytes();
  RecordHeader header;
  std::memcpy(&header, raw.data(), sizeof(header));
  if (header.magic != RecordHeader::kRecordMagic || HeaderCrc(header) != header.header_crc ||
      header.record_bytes != bytes || header.ns != ns) {
    stats_.ssd_errors++;
    drop_if_still_there();
    co_return Status::DataLoss(fmt::format("KV record of key {} in SSD batch {} at {} has a bad header", key.Hex(),
                                           SsdBatch(location), SsdOffset(location)));
  }
  if (std::memcmp(header.key, key.bytes.data(), 32) != 0) co_return Status::NotFound("a 16-byte twin");
  value.piece_bytes = {reinterpret_cast<const uint32_t*>(raw.data() + sizeof(RecordHeader)), header.piece_count};
  value.bytes = raw.subspan(sizeof(RecordHeader) + 4ull * header.piece_count, header.value_bytes);
  value.crc = header.value_crc;
  value.ssd_record = record;
  stats_.ssd_hits++;
  if (promotions_running_ < kPromotionsMax && !closing_.token().cancelled()) {
    promotions_running_++;
    promotions_.Spawn(Promote(ns, key, location, std::move(record)));
  }
  co_return Status::Ok();
}

Task<void> KvStore::Promote(uint32_t ns, KvKey key, uint64_t ssd_location, std::shared_ptr<storage::ReadResult> record) {
  const std::span<const std::byte> raw = record->bytes();
  Status room = Status::Ok();
  if (!dram_->HasRoom(raw.size())) room = co_await MakeRoom(raw.size(), closing_.token());
  KvEntry* entry = room.ok() ? Live(ns, key) : nullptr;
  if (entry != nullptr && OnSsd(*entry) && entry->offset == ssd_location && dram_->HasRoom(raw.size())) {
    const uint64_t offset = dram_->Reserve(raw.size());
    std::memcpy(dram_->At(offset), raw.data(), raw.size());
    entry->offset = offset;
    entry->flags &= static_cast<uint8_t>(~KvEntry::kOnSsd);
    stats_.promoted++;
  }
  promotions_running_--;
}

Result<std::optional<KvValue>> KvStore::Get(uint32_t ns, const KvKey& key) {
  RETURN_IF_ERROR(Namespace(ns).status());
  stats_.gets++;
  KvEntry* entry = Live(ns, key);
  if (entry == nullptr) return std::optional<KvValue>();
  entry->flags |= KvEntry::kReferenced;
  if (OnSsd(*entry)) {
    stats_.hits++;
    KvValue value;
    value.on_ssd = true;
    return std::optional<KvValue>(std::move(value));
  }
  const RecordHeader& header = dram_->HeaderAt(entry->offset);
  if (std::memcmp(header.key, key.bytes.data(), 32) != 0) return std::optional<KvValue>();  // 16-byte twin
  if (header.magic != RecordHeader::kRecordMagic || HeaderCrc(header) != header.header_crc) {
    return Status::DataLoss(fmt::format("KV record of key {} at {} has a bad header", key.Hex(), entry->offset));
  }
  stats_.hits++;
  const std::byte* record = dram_->At(entry->offset);
  KvValue value;
  value.piece_bytes = {reinterpret_cast<const uint32_t*>(record + sizeof(RecordHeader)), header.piece_count};
  value.bytes = {record + sizeof(RecordHeader) + 4ull * header.piece_count, header.value_bytes};
  value.crc = header.value_crc;
  value.hold = dram_->Acquire(entry->offset, header.record_bytes);
  return std::optional<KvValue>(std::move(value));
}

void KvStore::PrefetchRecord(uint32_t ns, const KvKey& key) {
  const KvEntry* entry = index_.Find(ns, key);
  if (entry != nullptr && !OnSsd(*entry)) __builtin_prefetch(dram_->At(entry->offset));
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
  if (ssd_ != nullptr) {
    stats.ssd_capacity_bytes = ssd_->capacity_bytes();
    stats.ssd_used_bytes = ssd_->used_bytes();
  }
  return stats;
}

}  // namespace cerulean::kv
