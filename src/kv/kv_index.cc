#include "kv/kv_index.h"

#include <algorithm>

#include "base/check.h"

namespace cerulean::kv {
namespace {

// For the multiply-shift that maps a hash onto the table (a GNU extension, hence the marker).
__extension__ typedef unsigned __int128 Uint128;

}  // namespace

KvIndex::KvIndex(size_t initial_slots) { slots_.resize(std::max<size_t>(initial_slots, 16)); }

size_t KvIndex::Home(uint32_t ns, uint64_t key_a) const {
  // Keys are SHA-256 output, already uniform; the namespace is mixed in so that one key in
  // many namespaces does not pile up in one run. The table's size is any number, so the hash
  // is mapped onto it by multiplication (its high bits) rather than by a mask.
  const uint64_t hash = key_a ^ (static_cast<uint64_t>(ns) * 0x9E3779B97F4A7C15ull);
  return static_cast<size_t>((static_cast<Uint128>(hash) * slots_.size()) >> 64);
}

KvEntry* KvIndex::Find(uint32_t ns, const KvKey& key) {
  const uint64_t a = key.word(0), b = key.word(1);
  for (size_t i = Home(ns, a);; i = Next(i)) {
    KvEntry& slot = slots_[i];
    if (slot.ns == 0) return nullptr;
    if (slot.ns == ns && slot.key_a == a && slot.key_b == b) return &slot;
  }
}

KvEntry* KvIndex::Insert(uint32_t ns, const KvKey& key) {
  CHECK(ns != 0);
  if ((size_ + 1) * 8 > slots_.size() * 7) Grow();
  const uint64_t a = key.word(0);
  size_t i = Home(ns, a);
  while (slots_[i].ns != 0) i = Next(i);
  KvEntry& slot = slots_[i];
  slot = KvEntry{};
  slot.ns = ns;
  slot.key_a = a;
  slot.key_b = key.word(1);
  size_++;
  return &slot;
}

void KvIndex::Erase(KvEntry* entry) {
  size_t hole = static_cast<size_t>(entry - slots_.data());
  CHECK(hole < slots_.size() && slots_[hole].ns != 0);
  // Backward shift: later entries of the run move into the hole if their home allows, so that
  // lookups never need tombstones.
  for (size_t i = Next(hole);; i = Next(i)) {
    KvEntry& next = slots_[i];
    if (next.ns == 0) break;
    const size_t home = Home(next.ns, next.key_a);
    // `next` may fill the hole unless its home lies cyclically in (hole, i].
    const bool home_after_hole = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (home_after_hole) continue;
    slots_[hole] = next;
    hole = i;
  }
  slots_[hole] = KvEntry{};
  size_--;
}

void KvIndex::Grow() {
  // By an eighth: the load goes from 7/8 to 7/9, so an entry costs 55 to 62 bytes of table at
  // every fill (doubling would leave it at 110 right after).
  std::vector<KvEntry> old = std::move(slots_);
  slots_.assign(old.size() + std::max<size_t>(16, old.size() / 8), KvEntry{});
  for (const KvEntry& entry : old) {
    if (entry.ns == 0) continue;
    size_t i = Home(entry.ns, entry.key_a);
    while (slots_[i].ns != 0) i = Next(i);
    slots_[i] = entry;
  }
}

}  // namespace cerulean::kv
