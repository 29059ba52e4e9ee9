// Cuts a group commit's gathered bytes into writes its disk takes whole.
//
// A direct write larger than the device's request size, or over its segment count, is split by
// the block layer, and a split cannot be issued without blocking: io_uring then hands the write
// to a worker thread that serialises the file's writes, and the disk idles between them (appends
// of 1 MiB records ran at half the disk's speed that way). So a batch goes out as several
// writes, each within the limits, all in flight at once; it is durable when every one is.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/env.h"

namespace cerulean::storage {

struct DeviceWrite {
  uint64_t offset = 0;       // in the file
  size_t first_iovec = 0;    // into the plan's iovecs
  size_t iovec_count = 0;
};

// The segments (physically contiguous runs) the block layer may need for `length` bytes at
// `base`, in memory that runs contiguous at most `run_bytes` (PooledBuffer::contiguous_run_bytes:
// a 2 MiB huge page for pooled buffers of 1 MiB and more, else a 4 KiB page). An estimate: an
// underestimate (a huge page the kernel did not grant) costs a split write, never correctness.
size_t SegmentsOf(const void* base, size_t length, size_t run_bytes);

// Writes of a batch's bytes, built piece by piece as the batch forms, each within the limits
// (the request size rounded down to 4 KiB, and the segments). Cuts fall on 4 KiB multiples of
// the batch, so each write stays aligned for O_DIRECT when the pieces are. Reused batch after
// batch: Start keeps the memory.
class DeviceWritePlan {
 public:
  void Start(uint64_t offset, DeviceWriteLimits limits);
  // The next `length` bytes at `base`, memory that runs contiguous at most `run_bytes`.
  void Add(const void* base, size_t length, size_t run_bytes);

  std::span<const DeviceWrite> writes() const { return writes_; }
  std::span<const iovec> IovecsOf(const DeviceWrite& write) const {
    return {iovecs_.data() + write.first_iovec, write.iovec_count};
  }

 private:
  void StartWrite();
  std::vector<iovec> iovecs_;  // the pieces, some cut in two where a write ends inside one
  std::vector<DeviceWrite> writes_;
  uint64_t next_offset_ = 0;   // where the next write starts
  uint64_t bytes_max_ = 0;
  size_t segments_max_ = 0;
  uint64_t write_bytes_ = 0;   // of the last write
  size_t write_segments_ = 0;
};

}  // namespace cerulean::storage
