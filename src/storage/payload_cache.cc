#include "storage/payload_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>

#include <fmt/format.h>

#include "base/check.h"
#include "base/huge_pages.h"

namespace cerulean::storage {
namespace {

// Records per segment at the largest record size: few enough that eviction stays fine-grained,
// enough that a segment's unused tail is a small part of it.
constexpr size_t kLargestRecordsPerSegment = 4;

}  // namespace

PayloadCache::PayloadCache(PayloadCacheOptions options) : options_(options) {
  if (options_.capacity_bytes == 0) return;
  // A read that will be kept reserves its header block and the sub-blocks that cover it.
  const size_t span_max = kBlockBytes + (options_.record_bytes_max + kSubBlockBytes - 1) / kSubBlockBytes * kSubBlockBytes;
  // A quarter of the budget, but room for one of the largest records at least and four at most
  // (a budget under one such record is one segment).
  segment_bytes_ = std::clamp(RoundUpToBlock(options_.capacity_bytes / 4), span_max, kLargestRecordsPerSegment * span_max);
  segment_bytes_ = std::min(segment_bytes_, RoundUpToBlock(options_.capacity_bytes));
  segment_count_ = std::max<size_t>(1, (options_.capacity_bytes + segment_bytes_ / 2) / segment_bytes_);
  auto memory = std::make_shared<Memory>();
  memory->bytes = segment_count_ * segment_bytes_;
  // A memfd, so that same-host clients can map it; without one (no memfd here) private memory
  // serves this node's own reads just the same.
  std::random_device random;
  const std::string name = fmt::format("{}{:08x}{:08x}", kCacheMemoryNamePrefix, random(), random());
  memory->fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (memory->fd >= 0 && ftruncate(memory->fd, static_cast<off_t>(memory->bytes)) == 0) {
    void* mapped = mmap(nullptr, memory->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memory->fd, 0);
    CHECK(mapped != MAP_FAILED) << "out of memory mapping a read cache of " << memory->bytes << " bytes";
    memory->data = static_cast<std::byte*>(mapped);
    view_ = {.pid = static_cast<uint32_t>(getpid()), .fd = memory->fd, .name = name, .bytes = memory->bytes};
  } else {
    if (memory->fd >= 0) close(memory->fd);
    memory->fd = -1;
    memory->bytes = (memory->bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    memory->data = MapHugePageAligned(memory->bytes);
  }
  Prefault(memory->data, memory->bytes);
  memory_ = memory->data;
  memory_holder_ = std::move(memory);
  segments_.resize(segment_count_);
  for (size_t i = 0; i < segment_count_; i++) {
    segments_[i].base = memory_ + i * segment_bytes_;
    segments_[i].hold = std::make_shared<const std::shared_ptr<const Memory>>(memory_holder_);
    empty_.push_back(i);
  }
}

PayloadCache::~PayloadCache() = default;

PayloadCache::Memory::~Memory() {
  if (data != nullptr) munmap(data, bytes);
  if (fd >= 0) close(fd);
}

bool PayloadCache::Unheld(const Segment& segment) const {
  if (segment.hold.use_count() != 1) return false;
  // The last holder may have let go on another thread: see its reads before reusing the memory.
  // (ThreadSanitizer does not model fences, and gcc refuses them under it; the holders in the
  // tests let go on the cache's own thread.)
#if !defined(__SANITIZE_THREAD__)
  std::atomic_thread_fence(std::memory_order_acquire);
#endif
  return true;
}

bool PayloadCache::HeldOutside(size_t at) const {
  const Segment& segment = segments_[at];
  // Each entry in the index holds the segment once, through its record; a record held by
  // someone else too, or a record not in the index (a reservation, a dropped entry) still
  // alive, is a holder outside.
  size_t indexed = 0;
  for (const Key& key : segment.keys) {
    auto found = index_.find(key);
    if (found == index_.end() || found->second.segment != at) continue;
    if (found->second.record.use_count() > 1) return true;
    indexed++;
  }
  return segment.hold.use_count() > static_cast<long>(1 + indexed);
}

std::shared_ptr<CachedRecord> PayloadCache::Reserve(size_t bytes) {
  CHECK(bytes % kBlockBytes == 0);
  if (!enabled() || bytes == 0 || bytes > segment_bytes_) return nullptr;
  if (open_ == kNone || segments_[open_].used + bytes > segment_bytes_) {
    if (open_ != kNone) filled_.push_back(open_);
    open_ = kNone;
    if (!OpenSegment()) return nullptr;
  }
  Segment& segment = segments_[open_];
  auto record = std::make_shared<CachedRecord>();
  record->bytes = std::span<std::byte>(segment.base + segment.used, bytes);
  record->segment_hold = segment.hold;
  segment.used += bytes;
  return record;
}

bool PayloadCache::OpenSegment() {
  const auto take_empty = [&] {
    for (size_t i = 0; i < empty_.size(); i++) {
      if (!Unheld(segments_[empty_[i]])) continue;
      open_ = empty_[i];
      empty_.erase(empty_.begin() + static_cast<std::ptrdiff_t>(i));
      segments_[open_].used = 0;
      return true;
    }
    return false;
  };
  if (take_empty()) return true;
  // Oldest first; a segment read from since it was last passed goes to the back once, and one
  // still held (lent, or being sent from) waits its turn again without losing its entries. Two
  // passes at most: the first clears every mark it passes.
  for (size_t steps = 2 * filled_.size(); steps > 0 && !filled_.empty(); steps--) {
    const size_t oldest = filled_.front();
    filled_.pop_front();
    if (HeldOutside(oldest)) {
      filled_.push_back(oldest);
      continue;
    }
    if (segments_[oldest].referenced) {
      segments_[oldest].referenced = false;
      filled_.push_back(oldest);
      continue;
    }
    Evict(oldest);
    if (take_empty()) return true;
  }
  return false;
}

void PayloadCache::Evict(size_t at) {
  Segment& segment = segments_[at];
  for (const Key& key : segment.keys) {
    auto found = index_.find(key);
    // The key may have been erased, and kept again in another segment since.
    if (found == index_.end() || found->second.segment != at) continue;
    bytes_ -= found->second.record->bytes.size();
    index_.erase(found);
  }
  segment.keys.clear();
  segment.referenced = false;
  empty_.push_back(at);
}

std::shared_ptr<const CachedRecord> PayloadCache::Find(uint64_t extent_key, uint64_t record_offset) {
  if (index_.empty()) return nullptr;
  auto found = index_.find(Key{extent_key, record_offset});
  if (found == index_.end()) return nullptr;
  segments_[found->second.segment].referenced = true;
  return found->second.record;
}

void PayloadCache::Insert(uint64_t extent_key, uint64_t record_offset, std::shared_ptr<const CachedRecord> record) {
  CHECK(record != nullptr && record->bytes.data() >= memory_ &&
        record->bytes.data() + record->bytes.size() <= memory_ + segment_count_ * segment_bytes_)
      << "a payload cache entry must be in memory the cache reserved";
  const Key key{extent_key, record_offset};
  if (index_.contains(key)) return;
  const size_t at = static_cast<size_t>(record->bytes.data() - memory_) / segment_bytes_;
  // A held segment is never evicted, so a reservation's segment is still filling or filled; if
  // it had been emptied, keeping the record would hold the segment empty for good.
  if (std::find(empty_.begin(), empty_.end(), at) != empty_.end()) return;
  bytes_ += record->bytes.size();
  segments_[at].keys.push_back(key);
  index_.emplace(key, Entry{std::move(record), at});
}

void PayloadCache::Erase(uint64_t extent_key, uint64_t record_offset) {
  auto found = index_.find(Key{extent_key, record_offset});
  if (found == index_.end()) return;
  bytes_ -= found->second.record->bytes.size();
  index_.erase(found);
}

}  // namespace cerulean::storage
