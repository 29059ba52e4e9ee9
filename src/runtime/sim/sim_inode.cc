#include "runtime/sim/sim_inode.h"

#include <algorithm>

#include "base/check.h"

namespace cerulean {

void SimInode::Apply(std::string& image, const Change& change, uint64_t byte_count) {
  if (change.kind == Change::Kind::kTruncate) {
    image.resize(change.offset);
    return;
  }
  CHECK_LE(byte_count, change.bytes.size());
  if (byte_count == 0) return;
  if (image.size() < change.offset + byte_count) image.resize(change.offset + byte_count);
  image.replace(change.offset, byte_count, change.bytes, 0, byte_count);
}

uint64_t SimInode::Log(Change change) {
  change.id = next_change_id_++;
  const uint64_t id = change.id;
  Apply(live_, change, change.bytes.size());
  unsynced_.push_back(std::move(change));
  if (unsynced_.size() > kUnsyncedChangesMax) {
    Apply(durable_, unsynced_.front(), unsynced_.front().bytes.size());
    unsynced_.pop_front();
  }
  return id;
}

uint64_t SimInode::Write(uint64_t offset, std::string bytes) {
  return Log(Change{.kind = Change::Kind::kWrite, .offset = offset, .bytes = std::move(bytes)});
}

void SimInode::Truncate(uint64_t length) {
  Log(Change{.kind = Change::Kind::kTruncate, .offset = length});
  allocated_bytes_ = std::min(allocated_bytes_, length);
}

void SimInode::Sync() {
  durable_ = live_;
  unsynced_.clear();
}

void SimInode::SyncWrite(uint64_t change_id) {
  auto synced = std::find_if(unsynced_.begin(), unsynced_.end(), [&](const Change& c) { return c.id == change_id; });
  if (synced == unsynced_.end()) return;  // already written back
  const uint64_t from = synced->offset;
  const uint64_t to = synced->offset + synced->bytes.size();
  // Earlier changes this one overlaps become durable first, in order, so that a crash can never
  // put older bytes over the durable ones; so do earlier size changes (a journal commits
  // metadata in order). Other earlier writes stay unsynced.
  for (auto it = unsynced_.begin(); it != unsynced_.end();) {
    if (it->id > change_id) break;
    const bool overlaps = it->kind == Change::Kind::kWrite && it->offset < to && from < it->offset + it->bytes.size();
    if (it->id == change_id || it->kind == Change::Kind::kTruncate || overlaps) {
      Apply(durable_, *it, it->bytes.size());
      it = unsynced_.erase(it);
    } else {
      ++it;
    }
  }
}

void SimInode::Persist(const Change& change, uint64_t byte_count) {
  Apply(durable_, change, byte_count);
}

void SimInode::DropUnsynced() {
  live_ = durable_;
  unsynced_.clear();
}

void SimInode::FlipBit(uint64_t byte_offset, int bit) {
  CHECK(bit >= 0 && bit < 8) << "bit " << bit;
  const char mask = static_cast<char>(1 << bit);
  if (byte_offset < live_.size()) live_[byte_offset] ^= mask;
  if (byte_offset < durable_.size()) durable_[byte_offset] ^= mask;
}

}  // namespace cerulean
