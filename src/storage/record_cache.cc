#include "storage/record_cache.h"

#include <bit>

#include "base/check.h"

namespace cerulean::storage {

RecordCache::RecordCache(size_t entries) {
  if (entries == 0) return;
  const size_t size = std::bit_floor(entries);
  entries_.reset(static_cast<Entry*>(std::calloc(size, sizeof(Entry))));
  CHECK(entries_ != nullptr) << "record cache of " << size << " entries";
  mask_ = size - 1;
}

size_t RecordCache::Slot(uint64_t extent_key, uint64_t record_offset) const {
  // Records are 4 KiB aligned; mix both parts so that neighbouring records of one extent, and
  // the same offset in different extents, spread over the table.
  uint64_t h = (record_offset >> 12) * 0x9E3779B97F4A7C15ull ^ extent_key * 0xC2B2AE3D27D4EB4Full;
  h ^= h >> 29;
  return static_cast<size_t>(h) & mask_;
}

std::optional<RecordCache::Facts> RecordCache::Find(uint64_t extent_key, uint64_t record_offset) const {
  if (!entries_) return std::nullopt;
  const Entry& entry = entries_[Slot(extent_key, record_offset)];
  if (entry.extent_key != extent_key || entry.record_offset != record_offset) return std::nullopt;
  return entry.facts;
}

void RecordCache::Insert(uint64_t extent_key, uint64_t record_offset, Facts facts) {
  CHECK(extent_key != 0) << "extent keys start at 1";
  if (!entries_) return;
  entries_[Slot(extent_key, record_offset)] = {extent_key, record_offset, facts};
}

}  // namespace cerulean::storage
