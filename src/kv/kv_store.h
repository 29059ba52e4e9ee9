// KvStore: one node's KV cache: the index, the DRAM tier, the optional SSD tier, TTLs, pins,
// read leases, namespace quotas and eviction. Entries are immutable; a put is put-if-absent and
// becomes visible only once its whole value is in place. Entries the DRAM tier evicts are
// demoted to the SSD tier when there is one, and an SSD hit is promoted back in the background.
// Single-threaded: it lives on the node's shard. Puts (which may have to evict, and so write
// the SSD tier or wait for readers) and SSD reads are coroutines; the rest is synchronous.
// docs/protocols/kv_cache.md describes the model, eviction and the limits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "kv/dram_tier.h"
#include "kv/kv_index.h"
#include "kv/kv_key.h"
#include "kv/ssd_tier.h"
#include "runtime/cancellation.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/task.h"
#include "runtime/task_group.h"

namespace cerulean::kv {

// What a node enforces for one namespace.
struct KvNamespaceLimits {
  uint32_t id = 0;  // never 0
  std::string name;
  uint64_t quota_bytes = UINT64_MAX;  // this node's share of the namespace's quota
  uint32_t value_bytes_max = 64u << 20;
  uint32_t pieces_max = 4096;
  uint32_t default_ttl_s = 0;  // 0: no expiry unless a put asks
};

struct KvStoreOptions {
  uint64_t dram_bytes = 1ull << 30;
  uint64_t segment_bytes = 16ull << 20;  // lowered to a 64th of dram_bytes if larger
  // The table is sized for this many entries up front (it grows past it).
  size_t expected_entries = 16384;
  Duration lease = std::chrono::seconds(10);
};

struct KvPut {
  KvKey key;
  std::span<const uint32_t> piece_bytes;  // sums to value's size; empty: one piece
  std::span<const std::byte> value;
  // The value's CRC32C as the client computed it; checked against the stored bytes.
  std::optional<uint32_t> value_crc;
  uint32_t ttl_s = 0;  // 0: the namespace's default
  bool pin = false;
};

enum class PutOutcome : uint8_t { kStored = 0, kAlreadyPresent = 1 };

// A value found by Get: views into the DRAM tier, valid while `hold` is kept; or, for an entry
// in the SSD tier, `on_ssd` until ReadFromSsd fills the views from `ssd_record`.
struct KvValue {
  std::span<const std::byte> bytes;
  std::span<const uint32_t> piece_bytes;
  uint32_t crc = 0;
  DramTier::Hold hold;
  bool on_ssd = false;
  std::shared_ptr<storage::ReadResult> ssd_record;
};

struct KvStoreStats {
  uint64_t entries = 0;
  uint64_t dram_capacity_bytes = 0;
  uint64_t dram_used_bytes = 0;     // the log's span, dead records included
  uint64_t live_value_bytes = 0;
  uint64_t index_bytes = 0;
  uint64_t gets = 0, hits = 0, puts = 0, stored = 0, evicted = 0, expired = 0, second_chances = 0;
  uint64_t kept_pinned_or_leased = 0;
  uint64_t ssd_capacity_bytes = 0, ssd_used_bytes = 0;
  uint64_t demoted = 0, promoted = 0, ssd_hits = 0, ssd_evicted = 0, ssd_carried = 0, ssd_errors = 0;
};

class KvStore {
 public:
  // `ssd`, if given, is the SSD tier evicted entries go to.
  static Result<std::unique_ptr<KvStore>> Create(Env& env, const KvStoreOptions& options,
                                                 std::unique_ptr<SsdTier> ssd = nullptr);
  ~KvStore();

  // Adds or replaces a namespace's limits (a replaced quota applies to later puts).
  void SetNamespace(const KvNamespaceLimits& limits);
  const KvNamespaceLimits* FindNamespace(uint32_t id) const;
  uint64_t NamespaceBytes(uint32_t id) const;

  // Stores a value unless the key is present. Waits (up to `cancel`) only if the space it needs
  // is held by readers. Errors: NotFound (namespace), InvalidArgument (pieces, CRC), OutOfRange
  // (value over the namespace's limit), ResourceExhausted (quota; DRAM full of pinned or leased
  // entries), DataLoss (the bytes do not match value_crc).
  Task<Result<PutOutcome>> Put(uint32_t ns, const KvPut& put, CancelToken cancel = {});
  // The value, or nothing on a miss; marks it read (its second chance). A value in the SSD tier
  // comes back `on_ssd`: ReadFromSsd, at once, reads it.
  Result<std::optional<KvValue>> Get(uint32_t ns, const KvKey& key);
  // Hints for a batch of Gets, which are memory-bound (the index slot, then the record's header,
  // each a cache miss): PrefetchEntry(k) well before Get(k), PrefetchRecord(k) a little before,
  // once the entry is in the cache. They change nothing.
  void PrefetchEntry(uint32_t ns, const KvKey& key) const { index_.Prefetch(ns, key); }
  void PrefetchRecord(uint32_t ns, const KvKey& key);
  // Reads the record of an `on_ssd` value Get just returned, and starts its promotion to DRAM.
  // NotFound if it left the SSD tier meanwhile (a miss); DataLoss if it fails its checksums
  // (the entry is dropped).
  Task<Status> ReadFromSsd(uint32_t ns, const KvKey& key, KvValue& value);
  // Presence; with `lease`, present entries are kept from eviction for the lease time.
  Result<bool> Exists(uint32_t ns, const KvKey& key, bool lease);
  // How many keys, from the first, are present (the longest cached prefix).
  Result<size_t> LookupPrefix(uint32_t ns, std::span<const KvKey> keys, bool lease);
  // Whether it was present.
  Result<bool> Remove(uint32_t ns, const KvKey& key);
  // Pinned entries are never evicted (they still expire); pins count up and down.
  Result<bool> Pin(uint32_t ns, const KvKey& key);
  Result<bool> Unpin(uint32_t ns, const KvKey& key);
  // Sets a present entry's TTL (0: none) from now; whether it was present.
  Result<bool> Expire(uint32_t ns, const KvKey& key, uint32_t ttl_s);
  // Seconds an entry has left: -1 with no TTL, -2 when absent (Redis's TTL).
  Result<int64_t> TimeToLive(uint32_t ns, const KvKey& key);

  KvStoreStats Stats() const;
  DramTier& dram() { return *dram_; }
  SsdTier* ssd() { return ssd_.get(); }
  // Stops promotions and closes the SSD tier; call before destroying a store that has one.
  Task<void> Close();

 private:
  KvStore(Env& env, const KvStoreOptions& options, std::unique_ptr<DramTier> dram, std::unique_ptr<SsdTier> ssd);

  // A DRAM record written to the SSD tier by a demotion.
  struct Demoted {
    uint64_t dram_offset;
    uint64_t ssd_location;
  };

  struct NamespaceState {
    KvNamespaceLimits limits;
    uint64_t live_bytes = 0;
  };

  uint32_t NowSeconds() const;
  uint32_t NowTicks() const;
  bool Expired(const KvEntry& entry) const;
  bool Protected(const KvEntry& entry) const;
  // The live entry for a key (expired ones are dropped on the way), or null.
  KvEntry* Live(uint32_t ns, const KvKey& key);
  void Drop(KvEntry* entry);
  Result<NamespaceState*> Namespace(uint32_t id);
  // Frees the tail segment by segment until `bytes` fit. One eviction runs at a time.
  Task<Status> MakeRoom(uint64_t bytes, CancelToken cancel);
  // Deals with the records of one tail segment; returns how many records it freed.
  Task<Result<size_t>> EvictTailSegment(CancelToken cancel);
  // Whether the record at `dram_offset` was written to the SSD tier (and is still there);
  // `next` walks `demoted`, which is in offset order, as the records are visited in order.
  bool WasDemoted(const std::vector<Demoted>& demoted, size_t& next, uint64_t dram_offset) const;
  // Writes the tail segment's demotable records [from, to) to the SSD tier, as far as it can.
  Task<std::vector<Demoted>> Demote(uint64_t from, uint64_t to);
  // Writes records (DRAM offsets and sizes) as SSD batches; their locations, in order, for as
  // many as were written.
  Task<Result<std::vector<uint64_t>>> WriteBatches(std::vector<std::span<const std::byte>> records);
  // Makes room in the SSD tier for a batch of `bytes`: drops its oldest extent, carrying pinned
  // and leased entries forward. ResourceExhausted if they do not fit in one batch.
  Task<Status> MakeSsdRoom(uint64_t bytes);
  Task<Status> DropOldestSsdExtent();
  Task<void> Promote(uint32_t ns, KvKey key, uint64_t ssd_location, std::shared_ptr<storage::ReadResult> record);

  Env& env_;
  KvStoreOptions options_;
  std::unique_ptr<DramTier> dram_;
  KvIndex index_;
  std::unordered_map<uint32_t, NamespaceState> namespaces_;
  TimePoint epoch_;
  std::unique_ptr<SsdTier> ssd_;
  Event released_;  // set when a reader lets go of a segment, and when an eviction ends
  bool evicting_ = false;
  CancelSource closing_;
  TaskGroup promotions_;
  size_t promotions_running_ = 0;
  KvStoreStats stats_;
};

}  // namespace cerulean::kv
