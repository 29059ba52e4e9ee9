#include "storage/payload_cache.h"

#include "base/check.h"

namespace cerulean::storage {

PayloadCache::PayloadCache(PayloadCacheOptions options) : options_(options) {}

std::shared_ptr<const CachedRecord> PayloadCache::Find(uint64_t extent_key, uint64_t record_offset) {
  if (index_.empty()) return nullptr;
  auto found = index_.find(Key{extent_key, record_offset});
  if (found == index_.end()) return nullptr;
  Slot& slot = slots_[found->second];
  slot.referenced = true;
  return slot.record;
}

void PayloadCache::Insert(uint64_t extent_key, uint64_t record_offset, std::shared_ptr<const CachedRecord> record) {
  CHECK(record != nullptr);
  const size_t size = record->bytes.capacity();
  if (!Admits(record->facts.payload_bytes) || size > options_.capacity_bytes) return;
  const Key key{extent_key, record_offset};
  if (index_.contains(key)) return;
  while (bytes_ + size > options_.capacity_bytes) StepHand();
  size_t at;
  if (!free_slots_.empty()) {
    at = free_slots_.back();
    free_slots_.pop_back();
  } else {
    at = slots_.size();
    slots_.emplace_back();
  }
  // A new entry waits a whole turn of the hand before it can go, without a second chance.
  slots_[at] = Slot{key, std::move(record), false};
  index_.emplace(key, at);
  bytes_ += size;
}

void PayloadCache::StepHand() {
  // Called only while over budget, so some slot holds an entry; every pass clears the marks it
  // passes, so the second pass over the slots at the latest finds one to drop.
  CHECK(!index_.empty());
  if (hand_ >= slots_.size()) hand_ = 0;
  Slot& slot = slots_[hand_];
  if (slot.record != nullptr) {
    if (slot.referenced) {
      slot.referenced = false;
    } else {
      Drop(hand_);
    }
  }
  hand_++;
}

void PayloadCache::Erase(uint64_t extent_key, uint64_t record_offset) {
  auto found = index_.find(Key{extent_key, record_offset});
  if (found != index_.end()) Drop(found->second);
}

void PayloadCache::Drop(size_t at) {
  Slot& slot = slots_[at];
  bytes_ -= slot.record->bytes.capacity();
  index_.erase(slot.key);
  slot.record.reset();
  slot.referenced = false;
  free_slots_.push_back(at);
}

}  // namespace cerulean::storage
