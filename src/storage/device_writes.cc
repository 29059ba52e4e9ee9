#include "storage/device_writes.h"

#include <algorithm>

#include "base/check.h"

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

void PlanDeviceWrites(uint64_t offset, std::span<const iovec> data, std::span<const size_t> run_bytes,
                      DeviceWriteLimits limits, DeviceWritePlan& plan) {
  CHECK_EQ(data.size(), run_bytes.size());
  plan.iovecs.clear();
  plan.writes.clear();
  const uint64_t bytes_max = std::max<uint64_t>(kPageBytes, limits.request_bytes_max / kPageBytes * kPageBytes);
  const size_t segments_max = std::max<size_t>(1, limits.segments_max);
  uint64_t write_bytes = 0;
  size_t write_segments = 0;
  const auto close_write = [&] {
    if (write_bytes == 0) return;
    DeviceWrite& last = plan.writes.back();
    last.iovec_count = plan.iovecs.size() - last.first_iovec;
    offset += write_bytes;
    write_bytes = 0;
    write_segments = 0;
  };
  for (size_t i = 0; i < data.size(); i++) {
    const iovec& piece = data[i];
    const size_t run = std::max(kPageBytes, run_bytes[i]);
    const auto* at = static_cast<const std::byte*>(piece.iov_base);
    size_t left = piece.iov_len;
    while (left > 0) {
      if (write_bytes == bytes_max || write_segments == segments_max) close_write();
      if (write_bytes == 0) plan.writes.push_back({.offset = offset, .first_iovec = plan.iovecs.size()});
      size_t take = std::min<uint64_t>(left, bytes_max - write_bytes);
      size_t segments = SegmentsOf(at, take, run);
      if (write_segments + segments > segments_max) {
        const size_t fits = BytesWithinSegments(at, segments_max - write_segments, run);
        // A cut must fall on a page; if the room left holds none, the next write takes the piece.
        take = std::min(take, fits / kPageBytes * kPageBytes);
        if (take == 0 && write_bytes > 0) {
          close_write();
          continue;
        }
        // A page straddling runs in a write of its own: over the estimate, split by the kernel.
        if (take == 0) take = std::min<size_t>(left, kPageBytes);
        segments = SegmentsOf(at, take, run);
      }
      plan.iovecs.push_back({const_cast<std::byte*>(at), take});
      write_bytes += take;
      write_segments += segments;
      at += take;
      left -= take;
    }
  }
  close_write();
}

}  // namespace cerulean::storage
