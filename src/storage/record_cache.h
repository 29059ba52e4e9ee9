// RecordCache: the verified length and CRC of small records (a payload of at most one 64 KiB
// sub-block), so that a read of one fetches only its payload, not its 4 KiB header block too:
// half the bytes of a 4 KiB read. A fixed direct-mapped table: a colliding insert replaces the
// older entry, and a miss only costs the header read. No allocation after construction; its
// memory is touched only as entries land. Owned by one shard; not thread-safe.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>

namespace cerulean::storage {

class RecordCache {
 public:
  struct Facts {
    uint32_t payload_bytes = 0;
    uint32_t payload_crc = 0;
  };

  // `entries` is rounded down to a power of two; 0 keeps nothing.
  explicit RecordCache(size_t entries);

  // `extent_key` names one incarnation of an extent (never 0): a deleted and re-created extent
  // gets a new key, so stale entries can never match.
  std::optional<Facts> Find(uint64_t extent_key, uint64_t record_offset) const;
  void Insert(uint64_t extent_key, uint64_t record_offset, Facts facts);
  size_t capacity() const { return entries_ ? mask_ + 1 : 0; }

 private:
  struct Entry {  // all zeros: empty
    uint64_t extent_key;
    uint64_t record_offset;
    Facts facts;
  };
  struct Free {
    void operator()(Entry* entries) const { std::free(entries); }
  };
  size_t Slot(uint64_t extent_key, uint64_t record_offset) const;

  std::unique_ptr<Entry[], Free> entries_;  // calloc'ed: zero pages until written
  size_t mask_ = 0;
};

}  // namespace cerulean::storage
