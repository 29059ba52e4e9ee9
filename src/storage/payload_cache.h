// PayloadCache: the verified bytes of recently read records, in memory of its own up to a byte
// budget, so that a hot object is served from memory as a file server serves hot files from the
// page cache.
//
// Records never change once written, so an entry is never stale: it is keyed by the extent's
// incarnation (a deleted and re-created extent gets a new key; its old entries are never asked
// for again and age out).
//
// The memory (a memfd, so that same-host clients can map it and copy hot records out of it
// themselves) is mapped and faulted in once, when the cache is made, and cut into segments that
// are filled front to back: a read that will be kept lands straight in the cache (Reserve), so
// keeping a record costs neither an allocation nor the first touch of fresh memory. Eviction
// empties a whole segment, oldest first, with a second chance for a segment read from since it
// was last passed over; a segment still held (an entry being sent from, or lent) is passed over
// until it is not. Entries are shared: a response may still send from one the cache has
// dropped, and its segment is not reused until the last holder lets go. Reads re-verify what
// they take from here, so memory that went bad is never served.
//
// Owned by one shard; not thread-safe (holders may let go on any thread).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/extent_format.h"
#include "storage/record_cache.h"

namespace cerulean::storage {

struct CachedRecord {
  // The record's header block (if `with_header`), then its payload padded to 4 KiB, as they
  // were verified when read from the disk.
  std::span<std::byte> bytes;
  bool with_header = false;
  RecordCache::Facts facts;  // the payload's length and CRC, from its header
  std::shared_ptr<const void> segment_hold;  // keeps the memory from reuse while this lives

  size_t payload_at() const { return with_header ? kBlockBytes : 0; }
  std::span<const std::byte> payload() const {
    return std::span<const std::byte>(bytes).subspan(payload_at(), facts.payload_bytes);
  }
};

// What a same-host client needs to map the cache's memory, read-only: the memfd `fd` of process
// `pid`, named `name` (the client opens /proc/<pid>/fd/<fd> only if the link names it).
struct PayloadCacheView {
  uint32_t pid = 0;
  int32_t fd = -1;
  std::string name;
  uint64_t bytes = 0;
};

// Every cache memfd's name starts so; the rest is random, in hex.
inline constexpr std::string_view kCacheMemoryNamePrefix = "cerulean-cache-";

struct PayloadCacheOptions {
  size_t capacity_bytes = 0;             // 0: nothing is cached
  size_t record_bytes_max = 8ull << 20;  // larger records are read from the disk every time
};

class PayloadCache {
 public:
  explicit PayloadCache(PayloadCacheOptions options);
  ~PayloadCache();
  PayloadCache(const PayloadCache&) = delete;
  PayloadCache& operator=(const PayloadCache&) = delete;

  bool enabled() const { return segment_count_ > 0; }
  // Whether a record of this payload size would be kept.
  bool Admits(uint64_t payload_bytes) const {
    // Room for what a read of it reserves: the header block and the sub-blocks that cover it.
    return enabled() && payload_bytes <= options_.record_bytes_max &&
           kBlockBytes + (payload_bytes + kSubBlockBytes - 1) / kSubBlockBytes * kSubBlockBytes <= segment_bytes_;
  }
  // `bytes` (a multiple of 4 KiB) of the cache's memory for a record to be read into, held by
  // the returned entry; null when every segment is still held. The caller fills in the entry
  // (it may shorten `bytes`) and then Inserts it, or drops it to give up.
  std::shared_ptr<CachedRecord> Reserve(size_t bytes);
  // The entry, marked as read; null if absent.
  std::shared_ptr<const CachedRecord> Find(uint64_t extent_key, uint64_t record_offset);
  // Keeps `record`, which Reserve gave, unless the key already has an entry.
  void Insert(uint64_t extent_key, uint64_t record_offset, std::shared_ptr<const CachedRecord> record);
  // Drops the entry, if there is one (a copy that failed its re-verification).
  void Erase(uint64_t extent_key, uint64_t record_offset);

  // The memory, for same-host clients to map and read entries in place (null when off).
  const PayloadCacheView* view() const { return view_.fd >= 0 ? &view_ : nullptr; }
  // Where `record`'s bytes start in that memory.
  uint64_t OffsetOf(const CachedRecord& record) const { return static_cast<uint64_t>(record.bytes.data() - memory_); }

  size_t bytes() const { return bytes_; }  // held by entries
  size_t entries() const { return index_.size(); }
  size_t memory_bytes() const { return segment_count_ * segment_bytes_; }
  size_t segment_bytes() const { return segment_bytes_; }

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
  struct Entry {
    std::shared_ptr<const CachedRecord> record;
    size_t segment;
  };
  struct Segment {
    std::byte* base = nullptr;
    size_t used = 0;
    std::vector<Key> keys;  // entries kept here (some may have been erased since)
    bool referenced = false;
    // Shared by every entry cut from this segment (only the cache holds it when none is
    // left); it holds the memory, which outlives the cache while an entry does.
    std::shared_ptr<const void> hold;
  };
  struct Memory {
    int fd = -1;
    std::byte* data = nullptr;
    size_t bytes = 0;
    ~Memory();
  };
  bool Unheld(const Segment& segment) const;
  // Whether anything beyond the cache's own index holds the segment's memory.
  bool HeldOutside(size_t segment) const;
  // An empty segment to fill, evicting the oldest (with second chances); false if none can be had.
  bool OpenSegment();
  void Evict(size_t segment);

  PayloadCacheOptions options_;
  size_t segment_bytes_ = 0;
  size_t segment_count_ = 0;
  std::byte* memory_ = nullptr;  // of memory_holder_
  std::shared_ptr<const Memory> memory_holder_;
  PayloadCacheView view_;
  std::vector<Segment> segments_;
  std::unordered_map<Key, Entry, KeyHash> index_;
  static constexpr size_t kNone = SIZE_MAX;
  size_t open_ = kNone;         // the segment being filled
  std::deque<size_t> filled_;   // oldest first
  std::vector<size_t> empty_;   // never filled, or evicted
  size_t bytes_ = 0;
};

}  // namespace cerulean::storage
