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
  size_t first_iovec = 0;    // into DeviceWritePlan::iovecs
  size_t iovec_count = 0;
};

struct DeviceWritePlan {
  std::vector<iovec> iovecs;  // the batch's, some cut in two where a write ends inside one
  std::vector<DeviceWrite> writes;
  std::span<const iovec> IovecsOf(const DeviceWrite& write) const {
    return {iovecs.data() + write.first_iovec, write.iovec_count};
  }
};

// The segments (physically contiguous runs) the block layer may need for `length` bytes at
// `base`, in memory that runs contiguous at most `run_bytes` (PooledBuffer::contiguous_run_bytes:
// a 2 MiB huge page for pooled buffers of 1 MiB and more, else a 4 KiB page). An estimate: an
// underestimate (a huge page the kernel did not grant) costs a split write, never correctness.
size_t SegmentsOf(const void* base, size_t length, size_t run_bytes);

// Plans writes of `data` at `offset` that each stay within `limits` (its request size rounded
// down to 4 KiB, and its segments); `run_bytes[i]` is data[i]'s. Cuts fall on 4 KiB multiples
// of the batch, so each write stays aligned for O_DIRECT when the pieces are. Reuses `plan`'s
// vectors.
void PlanDeviceWrites(uint64_t offset, std::span<const iovec> data, std::span<const size_t> run_bytes,
                      DeviceWriteLimits limits, DeviceWritePlan& plan);

}  // namespace cerulean::storage
