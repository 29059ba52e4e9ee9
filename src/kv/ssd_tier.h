// SsdTier: the SSD tier of a node's KV cache. Records the DRAM tier evicts are demoted here in
// batches: one batch is one extent record (durability none: a cache is recomputable), so a
// demotion costs one write however many values it carries. Extents form a ring in the tier's
// own directory; when the ring is full the oldest extent goes, and the store drops (or carries
// forward) the entries it held. A read fetches one KV record by (batch, offset) and is verified
// by the extent's sub-block checksums. Nothing survives a restart: Open empties the directory,
// since the index that named the records lived in memory. Single-threaded, on the store's loop.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "base/buffer_pool.h"
#include "base/result.h"
#include "runtime/env.h"
#include "runtime/task.h"
#include "storage/extent_store.h"

namespace cerulean::kv {

struct SsdTierOptions {
  std::string directory;
  uint64_t capacity_bytes = 0;  // 0: no SSD tier
  uint64_t extent_bytes = 64ull << 20;
};

class SsdTier {
 public:
  static Task<Result<std::unique_ptr<SsdTier>>> Open(Env& env, const SsdTierOptions& options);

  // Whether a batch of `bytes` can be written without dropping the oldest extent first.
  bool HasRoom(uint64_t bytes) const;
  // Batches below this id leave with the oldest extent (DropOldest); none when the ring is empty.
  uint32_t OldestExtentBatchEnd() const;
  uint32_t first_batch() const { return first_batch_; }
  size_t extent_count() const { return extents_.size(); }
  // A batch holds at most this much: one extent record, a quarter of an extent at most.
  uint64_t batch_bytes_max() const { return batch_bytes_max_; }
  Task<Status> DropOldest();
  // Writes `records` (KV records back to back) as one batch; HasRoom must be true. The batch id.
  Task<Result<uint32_t>> Write(PooledBuffer records);
  // `bytes` bytes at `offset` in batch `batch`, verified. NotFound once the batch has left.
  Task<Result<storage::ReadResult>> Read(uint32_t batch, uint32_t offset, uint32_t bytes);
  bool Holds(uint32_t batch) const;

  uint64_t capacity_bytes() const { return options_.capacity_bytes; }
  uint64_t used_bytes() const { return used_bytes_; }
  Task<void> Close();

 private:
  SsdTier(const SsdTierOptions& options, std::unique_ptr<storage::ExtentStore> store);

  struct Batch {
    uint64_t extent_id;
    uint64_t record_offset;
  };
  struct Extent {
    uint64_t id;
    uint32_t first_batch;
    uint64_t bytes;  // on disk, record headers and padding included
  };

  SsdTierOptions options_;
  std::unique_ptr<storage::ExtentStore> store_;
  std::deque<Extent> extents_;   // oldest first
  std::deque<Batch> batches_;    // batches_[i] is batch first_batch_ + i
  uint32_t first_batch_ = 0;
  uint64_t next_extent_id_ = 1;
  uint64_t used_bytes_ = 0;
  size_t extents_max_;
  uint64_t batch_bytes_max_;
};

}  // namespace cerulean::kv
