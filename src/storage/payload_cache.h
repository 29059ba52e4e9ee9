// PayloadCache: the verified bytes of recently read records, up to a byte budget, so that a hot
// object is served from memory as a file server serves hot files from the page cache. Records
// never change once written, so an entry is never stale: it is keyed by the extent's
// incarnation (a deleted and re-created extent gets a new key; its old entries are never asked
// for again and age out). Eviction is CLOCK: an entry read since the hand last passed gets a
// second chance. Entries are shared: a response may still send from one the cache has dropped.
// Reads re-verify what they take from here, so memory that went bad is never served.
// Owned by one shard; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/buffer_pool.h"
#include "storage/extent_format.h"
#include "storage/record_cache.h"

namespace cerulean::storage {

struct CachedRecord {
  // The record's header block (if `with_header`), then its payload padded to 4 KiB, as they
  // were verified when read from the disk.
  PooledBuffer bytes;
  bool with_header = false;
  RecordCache::Facts facts;  // the payload's length and CRC, from its header

  size_t payload_at() const { return with_header ? kBlockBytes : 0; }
  std::span<const std::byte> payload() const { return bytes.span().subspan(payload_at(), facts.payload_bytes); }
};

struct PayloadCacheOptions {
  size_t capacity_bytes = 0;             // 0: nothing is cached
  size_t record_bytes_max = 8ull << 20;  // larger records are read from the disk every time
};

class PayloadCache {
 public:
  explicit PayloadCache(PayloadCacheOptions options);

  bool enabled() const { return options_.capacity_bytes > 0; }
  // Whether a record of this payload size would be kept.
  bool Admits(uint64_t payload_bytes) const { return enabled() && payload_bytes <= options_.record_bytes_max; }
  // The entry, marked as read; null if absent.
  std::shared_ptr<const CachedRecord> Find(uint64_t extent_key, uint64_t record_offset);
  // Keeps `record` (if admitted and not already there), evicting others to stay in budget.
  void Insert(uint64_t extent_key, uint64_t record_offset, std::shared_ptr<const CachedRecord> record);

  // Drops the entry, if there is one (a copy that failed its re-verification).
  void Erase(uint64_t extent_key, uint64_t record_offset);

  size_t bytes() const { return bytes_; }
  size_t entries() const { return index_.size(); }

 private:
  struct Key {
    uint64_t extent_key;
    uint64_t record_offset;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const {
      uint64_t h = (key.record_offset >> 12) * 0x9E3779B97F4A7C15ull ^ key.extent_key * 0xC2B2AE3D27D4EB4Full;
      return static_cast<size_t>(h ^ (h >> 29));
    }
  };
  struct Slot {
    Key key{};
    std::shared_ptr<const CachedRecord> record;  // null: free
    bool referenced = false;
  };
  // Drops the entry under the hand, or gives it its second chance; advances the hand.
  void StepHand();
  void Drop(size_t slot);

  PayloadCacheOptions options_;
  std::unordered_map<Key, size_t, KeyHash> index_;  // key -> slot
  std::vector<Slot> slots_;
  std::vector<size_t> free_slots_;
  size_t hand_ = 0;
  size_t bytes_ = 0;
};

}  // namespace cerulean::storage
