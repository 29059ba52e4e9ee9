#include "kv/ssd_tier.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/check.h"

namespace cerulean::kv {

Task<Result<std::unique_ptr<SsdTier>>> SsdTier::Open(Env& env, const SsdTierOptions& options) {
  if (options.capacity_bytes == 0 || options.directory.empty()) {
    co_return Status::InvalidArgument("an SSD tier needs a directory and a capacity");
  }
  if (options.extent_bytes < (1 << 20) || options.capacity_bytes < 2 * options.extent_bytes) {
    co_return Status::InvalidArgument(fmt::format(
        "an SSD tier of {} bytes in extents of {}: extents must be at least 1 MiB, and at least two must fit",
        options.capacity_bytes, options.extent_bytes));
  }
  storage::ExtentStoreOptions store_options;
  store_options.extent_bytes_max = options.extent_bytes;
  store_options.preallocate_bytes = std::min<uint64_t>(options.extent_bytes, 64ull << 20);
  store_options.record_cache_entries = 0;  // batches are large; their headers are read with them
  auto opened = co_await storage::ExtentStore::Open(env, options.directory, store_options);
  if (!opened.ok()) co_return opened.status();
  std::unique_ptr<storage::ExtentStore> store = std::move(*opened);
  // What an earlier run demoted is unreachable: its index is gone.
  for (const storage::ExtentInfo& info : store->List()) {
    Status deleted = co_await store->Delete(info.extent_id);
    if (!deleted.ok()) {
      co_await store->Close();
      co_return deleted;
    }
  }
  co_return std::unique_ptr<SsdTier>(new SsdTier(options, std::move(store)));
}

SsdTier::SsdTier(const SsdTierOptions& options, std::unique_ptr<storage::ExtentStore> store)
    : options_(options), store_(std::move(store)),
      extents_max_(options.capacity_bytes / options.extent_bytes),
      batch_bytes_max_(std::min<uint64_t>(storage::kRecordPayloadBytesMax, options.extent_bytes / 4)) {}

bool SsdTier::HasRoom(uint64_t bytes) const {
  const uint64_t needed = storage::RecordBytes(bytes);
  if (!extents_.empty() && extents_.back().bytes + needed <= options_.extent_bytes) return true;
  return extents_.size() < extents_max_;
}

uint32_t SsdTier::OldestExtentBatchEnd() const {
  if (extents_.size() >= 2) return extents_[1].first_batch;
  return first_batch_ + static_cast<uint32_t>(batches_.size());
}

bool SsdTier::Holds(uint32_t batch) const {
  return static_cast<uint32_t>(batch - first_batch_) < batches_.size();
}

Task<Status> SsdTier::DropOldest() {
  if (extents_.empty()) co_return Status::Ok();
  const Extent oldest = extents_.front();
  const uint32_t end = OldestExtentBatchEnd();
  extents_.pop_front();
  while (first_batch_ != end) {
    batches_.pop_front();
    first_batch_++;
  }
  used_bytes_ -= oldest.bytes;
  co_return co_await store_->Delete(oldest.id);
}

Task<Result<uint32_t>> SsdTier::Write(PooledBuffer records) {
  CHECK(records.size() <= batch_bytes_max_ && HasRoom(records.size()));
  const uint64_t needed = storage::RecordBytes(records.size());
  if (extents_.empty() || extents_.back().bytes + needed > options_.extent_bytes) {
    const uint64_t id = next_extent_id_++;
    Status created = co_await store_->Create(id, storage::Durability::kNone);
    if (!created.ok()) co_return created;
    extents_.push_back({.id = id, .first_batch = first_batch_ + static_cast<uint32_t>(batches_.size()),
                        .bytes = storage::kFirstRecordOffset});
    used_bytes_ += storage::kFirstRecordOffset;
  }
  const uint64_t extent_id = extents_.back().id;
  const size_t batches_before = batches_.size();
  auto appended = co_await store_->Append(extent_id, std::move(records));
  if (!appended.ok()) co_return appended.status();
  // One write at a time (the store's evictions take turns), so the ring is as it was.
  CHECK(batches_.size() == batches_before && extents_.back().id == extent_id);
  batches_.push_back({.extent_id = extent_id, .record_offset = appended->record_offset});
  extents_.back().bytes += needed;
  used_bytes_ += needed;
  co_return first_batch_ + static_cast<uint32_t>(batches_.size() - 1);
}

Task<Result<storage::ReadResult>> SsdTier::Read(uint32_t batch, uint32_t offset, uint32_t bytes) {
  if (!Holds(batch)) co_return Status::NotFound(fmt::format("SSD batch {} has been dropped", batch));
  const Batch where = batches_[batch - first_batch_];
  co_return co_await store_->Read(where.extent_id, where.record_offset, offset, bytes);
}

Task<void> SsdTier::Close() { co_await store_->Close(); }

}  // namespace cerulean::kv
