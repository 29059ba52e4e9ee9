// ExtentStore: the append-only extents of one data directory (one disk). Appends to an extent
// are group-committed: whatever queued while the previous batch was on its way goes out as one
// write and one fdatasync. Reads verify the checksums of what they return. On Open, sealed
// extents are trusted by their seal files and open extents are scanned only from their last
// tail hint. Format: docs/formats/extent.md. Owned by one shard; not thread-safe.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <string>

#include "base/buffer_pool.h"
#include "base/metrics.h"
#include "storage/extent_format.h"
#include "storage/payload_cache.h"
#include "storage/record_cache.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/intrusive_list.h"
#include "runtime/task_group.h"

namespace cerulean::storage {

struct ExtentStoreOptions {
  uint64_t extent_bytes_max = 1ull << 30;
  // What the disk may hold; 0 takes the file system's size at Open.
  uint64_t capacity_bytes = 0;
  // Appends stop this far short of capacity, so the disk never fills to the last block.
  // kReserveAuto: 5% of the capacity, at most 64 MiB.
  static constexpr uint64_t kReserveAuto = UINT64_MAX;
  uint64_t reserve_bytes = kReserveAuto;
  // Space is preallocated (fallocate) this far ahead of the appends.
  uint64_t preallocate_bytes = 64ull << 20;
  // An open extent records a durable "scan from here" point every this many bytes, which bounds
  // what recovery must read.
  uint64_t tail_hint_interval_bytes = 64ull << 20;
  // Small records whose length and CRC are kept in memory (24 bytes each), so that reading one
  // fetches its payload only (storage/record_cache.h). 0 turns the cache off.
  size_t record_cache_entries = 1 << 20;
  // Verified bytes of recently read records kept in memory (storage/payload_cache.h): hot
  // objects are served without a disk read. Capacity 0, the default, turns it off.
  PayloadCacheOptions payload_cache;
  // How long a cached record lent to a same-host client (LendCached) stays in place: ample for
  // its copy. A client that takes longer sees bytes that fail their CRC, never wrong bytes.
  Duration cache_loan = std::chrono::seconds(1);
};

inline constexpr uint64_t kAnyOffset = UINT64_MAX;

struct AppendOptions {
  OwnerId owner;
  // kAnyOffset: the extent's next offset. Otherwise the record must land exactly here (a chain
  // replica follows its head): the call waits, until `cancel`, while earlier records are still
  // on their way, and is Aborted if the extent is already past this offset.
  uint64_t expected_offset = kAnyOffset;
  // If set, the extent's chain version must be this one (FailedPrecondition otherwise).
  std::optional<uint64_t> chain_version;
  // If set, the payload's CRC32C must be this (the CRC it arrived with, not yet checked): the
  // append checks it in the pass that computes the record's checksums, and refuses with
  // DataLoss, writing nothing, if it differs.
  std::optional<uint32_t> expected_payload_crc;
  CancelToken cancel;
};

struct AppendResult {
  uint64_t record_offset = 0;  // the address of the record: reads name it
  uint64_t sequence = 0;
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;
  uint64_t extent_length = 0;  // the extent's committed length after this record
};

// Verified bytes, in a pooled buffer or a payload cache entry that may be handed on (to an rpc
// response) without a copy, or in the memory the caller asked the read to land in.
struct ReadResult {
  PooledBuffer buffer;
  std::shared_ptr<const CachedRecord> cached;  // holds the bytes instead of `buffer`
  std::span<std::byte> landed;  // the caller's memory that holds the bytes, if it gave some
  size_t offset = 0;            // of the bytes in `landed`, `cached->bytes` or `buffer`
  size_t length = 0;
  // The CRC32C of bytes() (0 for none), from the checksums verified on the way: the whole
  // record's, or the sub-blocks' inside the range combined with the CRC of the partial
  // sub-blocks at its ends. Lets a response skip another pass over the bytes.
  uint32_t crc = 0;
  std::span<const std::byte> bytes() const {
    if (!landed.empty()) return std::span<const std::byte>(landed).subspan(offset, length);
    if (cached != nullptr) return std::span<const std::byte>(cached->bytes).subspan(offset, length);
    return buffer.span().subspan(offset, length);
  }
};

// The memory a read of `length` bytes needs when it lands in the caller's: the record's header
// block and the 64 KiB sub-blocks that cover the range.
inline uint64_t ReadLandingBytes(uint64_t length) {
  return kBlockBytes + RoundUpToBlock(length) + 2 * kSubBlockBytes;
}

struct ExtentInfo {
  uint64_t extent_id = 0;
  uint64_t length = 0;  // committed bytes, file header included
  uint64_t next_offset = 0;  // where the next append goes (past records still in flight)
  bool sealed = false;
  Durability durability = Durability::kSync;
  uint64_t chain_version = 0;
};

struct DiskUsage {
  uint64_t capacity_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t reserve_bytes = 0;
  size_t extent_count = 0;
};

class ExtentStore {
 public:
  // Opens (creating if needed) `directory` and recovers every extent in it.
  static Task<Result<std::unique_ptr<ExtentStore>>> Open(Env& env, std::string directory,
                                                         ExtentStoreOptions options);
  ~ExtentStore();

  // Creates an empty extent. Idempotent for the same settings (a retried create succeeds);
  // AlreadyExists if the extent exists with other settings.
  Task<Status> Create(uint64_t extent_id, Durability durability = Durability::kSync, uint64_t chain_version = 0);
  // Appends one record. Ok once the record is durable (kSync) or written (kNone). Errors:
  // NotFound, FailedPrecondition (sealed, stale chain version), Aborted (extent full: continue
  // on a new extent; or past expected_offset), ResourceExhausted (disk full), InvalidArgument
  // (payload too large), DataLoss/Unavailable (I/O error: the extent stops taking appends and
  // should be sealed).
  // The payload is written from `payload` itself, whose padding is zeroed in place: it must
  // stay alive and unchanged until the call completes (a chain head forwards from it too).
  Task<Result<AppendResult>> Append(uint64_t extent_id, PooledBuffer& payload, AppendOptions options = {});
  // The same, owning the payload for the duration of the call.
  Task<Result<AppendResult>> Append(uint64_t extent_id, PooledBuffer&& payload, AppendOptions options = {});
  // The same, from memory the caller lends: 4 KiB-aligned, with `room` bytes in all, at least the
  // payload padded to 4 KiB (InvalidArgument otherwise). A same-host client's shared memory.
  Task<Result<AppendResult>> Append(uint64_t extent_id, std::span<std::byte> payload, size_t room,
                                    AppendOptions options = {});
  // `length` bytes from `offset_in_payload` within the record at `record_offset`. Only
  // committed records can be read. DataLoss, naming extent and offset, if a checksum fails.
  // With a `landing` (4 KiB-aligned, at least ReadLandingBytes(length)), the disk reads go
  // straight into it, and the verified bytes are there: a same-host client's shared memory.
  // With `may_answer_from_cache` too (a client that maps the payload cache's memory), bytes that
  // are or will be in the payload cache are answered from there (`cached`) instead of copied
  // into the landing; a small record not kept may come back in `buffer`, not landed.
  Task<Result<ReadResult>> Read(uint64_t extent_id, uint64_t record_offset, uint64_t offset_in_payload,
                                uint64_t length, std::span<std::byte> landing = {}, bool may_answer_from_cache = false);
  // The payload cache's memory, for same-host clients to map read-only (null if there is none).
  const PayloadCacheView* payload_cache_view() const { return payload_cache_.view(); }
  // Lends a read's cached bytes to a same-host client that copies them out of the cache's memory
  // itself: they stay in place (their segment is not refilled) for options' cache_loan. Returns
  // where the read's bytes start in the cache's memory.
  uint64_t LendCached(const ReadResult& result);
  // Whole committed records from `from_offset` (a record boundary) on, at most `bytes_max` bytes
  // of them (but at least one record if `bytes_max` > 0), as they are on disk, each verified.
  // For re-replication.
  struct RawRecords {
    PooledBuffer bytes;  // header blocks and padded payloads, back to back
    uint64_t end_offset = 0;
  };
  Task<Result<RawRecords>> ReadRecords(uint64_t extent_id, uint64_t from_offset, uint64_t bytes_max);
  // Writes records read from another replica at the end of this one: each must verify, name this
  // extent, start where this replica ends and carry the next sequence. Not while appends run.
  Task<Status> WriteRecords(uint64_t extent_id, std::span<const std::byte> records);

  // The first half of a seal: the extent takes no new appends from now on (they fail with
  // FailedPrecondition, as on a sealed extent), and once the appends already accepted have landed
  // (or failed), its committed length is returned. Every append this replica acknowledges is
  // inside that length, so a seal at the least of the replicas' frozen lengths cuts nothing any
  // replica acknowledged. Freezing twice is fine; a sealed extent answers its sealed length.
  // Nothing of it is kept on disk: after a restart the extent is open again, until sealed. A
  // frozen extent still takes a copy (WriteRecords) that brings it to the seal; while one is
  // landing, Freeze answers Aborted (busy: ask again).
  Task<Result<ExtentInfo>> Freeze(uint64_t extent_id);
  // Seals at `length` (a record boundary within the committed length), dropping anything after.
  // Seal, Delete and WriteRecords on one extent run one at a time; a second is Aborted (retry).
  Task<Status> Seal(uint64_t extent_id, uint64_t length);
  Task<Status> Delete(uint64_t extent_id);

  Result<ExtentInfo> Info(uint64_t extent_id) const;
  std::vector<ExtentInfo> List() const;
  DiskUsage usage() const;
  const std::string& directory() const { return directory_; }
  // Records read by the last Open's tail scans: bounded by the tail hints, not the data stored.
  uint64_t recovery_records_scanned() const { return recovery_records_scanned_; }
  // Waits for appends in flight; the store takes no new work afterwards.
  Task<void> Close();

  struct Extent;
  struct PendingAppend;
  struct CommitBatch;
  // The small files beside an extent (seal, tail hint): two u64 values, a magic and a CRC.
  struct SideFile {
    uint64_t first = 0;
    uint64_t second = 0;
  };

 private:
  ExtentStore(Env& env, std::string directory, ExtentStoreOptions options);
  Task<Status> Recover();
  Task<Status> RecoverExtent(uint64_t extent_id);
  Task<Result<uint64_t>> ScanTail(Extent& extent, uint64_t from, uint64_t sequence);
  Task<void> CommitLoop(Extent& extent);
  // Takes the next batch of appends from the extent's queue.
  void FormBatch(Extent& extent, CommitBatch& batch);
  Task<void> WriteBatch(Extent& extent, CommitBatch& batch);
  static Task<Status> WriteToDevice(File& file, uint64_t offset, std::span<const iovec> data, bool durable);
  // Batches complete in offset order: acknowledges this one, or fails it and stops the extent.
  void FinishBatch(Extent& extent, CommitBatch& batch);
  bool TailHintDue(const Extent& extent) const;
  bool AllocationDue(const Extent& extent) const;
  Task<void> TailWork(Extent& extent);
  Task<Status> WriteTailHint(Extent& extent);
  Task<Status> WriteSmallFile(const std::string& path, std::span<const std::byte> bytes);
  // A side file's values: nothing if it does not verify, NotFound if it is absent.
  Task<Result<std::optional<SideFile>>> ReadSideFile(const std::string& path, uint32_t magic);
  Task<Status> SealBusy(Extent& extent, uint64_t length);
  // Refuses new appends to `extent` from now on and waits until those accepted have landed or
  // failed: Freeze, Seal and Delete start here.
  Task<void> StopAppends(Extent& extent);
  Task<Result<AppendResult>> AppendFrom(uint64_t extent_id, std::span<std::byte> payload, size_t room,
                                        size_t payload_run_bytes, AppendOptions options);
  Task<Result<ReadResult>> ReadRecord(Extent& extent, uint64_t record_offset, uint64_t offset_in_payload,
                                      uint64_t length, std::span<std::byte> landing, bool may_answer_from_cache);
  // ReadRecord for a record in the payload cache: verified again, no disk read.
  void ExpireLoans();
  Result<ReadResult> ReadCachedRecord(Extent& extent, uint64_t record_offset, const std::shared_ptr<const CachedRecord>& cached,
                                      uint64_t offset_in_payload, uint64_t length, std::span<std::byte> landing);
  // Keeps the verified payload of a small record (no header) in the payload cache, if it admits
  // it: a copy of at most a sub-block. The entry, or null.
  std::shared_ptr<const CachedRecord> KeepSmallPayload(const Extent& extent, uint64_t record_offset,
                                                       RecordCache::Facts facts, std::span<const std::byte> padded);
  // ReadRecord for a record whose length and CRC are in the record cache: the payload only.
  Task<Result<ReadResult>> ReadSmallRecord(Extent& extent, uint64_t record_offset, RecordCache::Facts facts,
                                           uint64_t offset_in_payload, uint64_t length, std::span<std::byte> landing);
  Status CountDataLoss(Status status, uint64_t extent_id, uint64_t offset);
  std::string ExtentPath(uint64_t extent_id) const;
  std::string SealPath(uint64_t extent_id) const;
  std::string HintPath(uint64_t extent_id) const;
  Extent* Find(uint64_t extent_id) const;

  Env& env_;
  std::string directory_;
  ExtentStoreOptions options_;
  DeviceWriteLimits device_limits_;  // of the data directory's disk: batches are cut to these
  std::map<uint64_t, std::shared_ptr<Extent>> extents_;
  uint64_t capacity_bytes_ = 0;
  uint64_t used_bytes_ = 0;
  uint64_t recovery_records_scanned_ = 0;
  RecordCache record_cache_;
  PayloadCache payload_cache_;
  std::deque<std::pair<TimePoint, std::shared_ptr<const CachedRecord>>> loans_;  // by the time they end
  uint64_t next_cache_key_ = 1;  // one per extent incarnation, for record_cache_
  TaskGroup committers_;
  bool closed_ = false;
  Counter& data_loss_;
  Counter& appends_;
  Counter& append_bytes_;
  Histogram& append_latency_ns_;
  Histogram& read_latency_ns_;
  Counter& payload_cache_hits_;
  Counter& payload_cache_misses_;
  Histogram& batch_records_;
  Counter& device_writes_;
};

}  // namespace cerulean::storage
