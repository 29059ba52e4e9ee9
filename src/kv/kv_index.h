// KvIndex: a node's in-memory index of its KV-cache entries, 48 bytes a slot in one open-
// addressing table (linear probing, backward-shift deletion). At 7/8 full it grows by an eighth,
// so its load stays between 7/9 and 7/8: an entry costs 55 to 62 bytes of index at any fill
// past the table's initial size.
//
// A slot keeps the first 16 bytes of the key's 32-byte SHA-256 digest: a false match needs two
// of 2^128 values to meet, and a get compares the full key kept beside the value anyway.
// Single-threaded. Pointers to entries are invalidated by Insert and Erase.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kv/kv_key.h"

namespace cerulean::kv {

struct KvEntry {
  uint64_t key_a = 0;       // the key's first 8 bytes
  uint64_t key_b = 0;       // its next 8
  uint32_t ns = 0;          // the namespace id; 0 marks an empty slot
  uint32_t value_bytes = 0;
  // In DRAM: the record's logical offset in the tier's log. On SSD (kOnSsd): the batch in the
  // high 32 bits, the record's offset within it in the low 32.
  uint64_t offset = 0;
  uint32_t expires_s = 0;   // store-clock seconds; 0: never
  uint32_t lease_until = 0; // store-clock ticks (10 ms), compared with wrap-around arithmetic
  uint16_t pins = 0;
  uint8_t flags = 0;
  uint8_t reserved = 0;
  uint32_t piece_count = 0;  // with value_bytes, gives the record's size (an SSD read's length)

  static constexpr uint8_t kReferenced = 1;  // read since its last second chance
  static constexpr uint8_t kOnSsd = 2;       // demoted: the record is in the SSD tier

  bool Matches(uint32_t n, const KvKey& key) const { return ns == n && key_a == key.word(0) && key_b == key.word(1); }
};
static_assert(sizeof(KvEntry) == 48);

class KvIndex {
 public:
  explicit KvIndex(size_t initial_slots = 1024);

  KvEntry* Find(uint32_t ns, const KvKey& key);
  const KvEntry* Find(uint32_t ns, const KvKey& key) const { return const_cast<KvIndex*>(this)->Find(ns, key); }
  // Asks the CPU to bring the key's home slot into the cache, so that a Find soon after, one of
  // a batch's, does not wait for memory.
  void Prefetch(uint32_t ns, const KvKey& key) const { __builtin_prefetch(&slots_[Home(ns, key.word(0))]); }
  // Adds an entry for a key that is not present (the caller has looked); returns where it is.
  KvEntry* Insert(uint32_t ns, const KvKey& key);
  void Erase(KvEntry* entry);

  size_t size() const { return size_; }
  size_t slots() const { return slots_.size(); }
  size_t memory_bytes() const { return slots_.size() * sizeof(KvEntry); }

  // Calls f(entry) on every entry; f must not insert or erase.
  template <typename F>
  void ForEach(F&& f) {
    for (KvEntry& entry : slots_) {
      if (entry.ns != 0) f(entry);
    }
  }

 private:
  size_t Home(uint32_t ns, uint64_t key_a) const;
  size_t Next(size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
  void Grow();

  std::vector<KvEntry> slots_;
  size_t size_ = 0;
};

}  // namespace cerulean::kv
