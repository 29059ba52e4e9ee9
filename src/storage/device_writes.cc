#include "storage/device_writes.h"

#include <algorithm>


namespace cerulean::storage {
namespace {

constexpr size_t kPageBytes = 4096;

// How many bytes from `base` fit in `segments` runs.
size_t BytesWithinSegments(const void* base, size_t segments, size_t run) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(base);
  const uintptr_t end = (start / run + segments) * run;  // the end of the segments-th run
  return end - start;
}

}  // namespace

size_t SegmentsOf(const void* base, size_t length, size_t run) {
  if (length == 0) return 0;
  const uintptr_t start = reinterpret_cast<uintptr_t>(base);
  return (start + length - 1) / run - start / run + 1;
}

void DeviceWritePlan::Start(uint64_t offset, DeviceWriteLimits limits) {
  iovecs_.clear();
  writes_.clear();
  next_offset_ = offset;
  bytes_max_ = std::max<uint64_t>(kPageBytes, limits.request_bytes_max / kPageBytes * kPageBytes);
  segments_max_ = std::max<size_t>(1, limits.segments_max);
  write_bytes_ = 0;
  write_segments_ = 0;
}

void DeviceWritePlan::StartWrite() {
  next_offset_ += write_bytes_;
  writes_.push_back({.offset = next_offset_, .first_iovec = iovecs_.size()});
  write_bytes_ = 0;
  write_segments_ = 0;
}

void DeviceWritePlan::Add(const void* base, size_t length, size_t run_bytes) {
  const size_t run = std::max(kPageBytes, run_bytes);
  const auto* at = static_cast<const std::byte*>(base);
  while (length > 0) {
    if (writes_.empty() || write_bytes_ == bytes_max_ || write_segments_ == segments_max_) StartWrite();
    size_t take = std::min<uint64_t>(length, bytes_max_ - write_bytes_);
    size_t segments = SegmentsOf(at, take, run);
    if (write_segments_ + segments > segments_max_) {
      const size_t fits = BytesWithinSegments(at, segments_max_ - write_segments_, run);
      // A cut must fall on a page; if the room left holds none, the next write takes the piece.
      take = std::min(take, fits / kPageBytes * kPageBytes);
      if (take == 0 && write_bytes_ > 0) {
        StartWrite();
        continue;
      }
      // A page straddling runs in a write of its own: over the estimate, split by the kernel.
      if (take == 0) take = std::min<size_t>(length, kPageBytes);
      segments = SegmentsOf(at, take, run);
    }
    iovecs_.push_back({const_cast<std::byte*>(at), take});
    writes_.back().iovec_count++;
    write_bytes_ += take;
    write_segments_ += segments;
    at += take;
    length -= take;
  }
}

}  // namespace cerulean::storage
