#include "storage/extent_store.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/little_endian.h"
#include "base/logging.h"
#include "runtime/when_all.h"
#include "storage/device_writes.h"

namespace cerulean::storage {
namespace {

constexpr size_t kBatchRecordsMax = 256;              // records per group commit
constexpr uint64_t kBatchBytesMax = 16ull << 20;      // bytes per group commit
// Batches of one extent written at once. Each is durable by itself (RWF_DSYNC), so the disk
// works on the next while the last is being made durable; they are acknowledged in order.
constexpr size_t kBatchesInFlightMax = 4;
constexpr char kExtentSuffix[] = ".ext";
constexpr uint32_t kSealMagic = 0x4C455343;           // "CSEL"
constexpr uint32_t kHintMagic = 0x544E4843;           // "CHNT"

using SideFile = ExtentStore::SideFile;

std::array<std::byte, 24> EncodeSideFile(uint32_t magic, SideFile value) {
  std::array<std::byte, 24> bytes{};
  StoreLittleEndian<uint64_t>(bytes.data(), value.first);
  StoreLittleEndian<uint64_t>(bytes.data() + 8, value.second);
  StoreLittleEndian<uint32_t>(bytes.data() + 16, magic);
  StoreLittleEndian<uint32_t>(bytes.data() + 20, Crc32c(bytes.data(), 20));
  return bytes;
}

std::optional<SideFile> DecodeSideFile(uint32_t magic, std::span<const std::byte> bytes) {
  if (bytes.size() != 24) return std::nullopt;
  if (LoadLittleEndian<uint32_t>(bytes.data() + 16) != magic) return std::nullopt;
  if (LoadLittleEndian<uint32_t>(bytes.data() + 20) != Crc32c(bytes.data(), 20)) return std::nullopt;
  return SideFile{LoadLittleEndian<uint64_t>(bytes.data()), LoadLittleEndian<uint64_t>(bytes.data() + 8)};
}

// Checksums and encodes a record header into `block`; returns the header's small facts.
struct RecordFacts {
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;
};
RecordFacts EncodeRecord(uint64_t extent_id, uint64_t sequence, uint64_t record_offset, OwnerId owner,
                         std::span<const std::byte> payload, std::byte* block) {
  RecordHeader header;
  header.extent_id = extent_id;
  header.sequence = sequence;
  header.record_offset = record_offset;
  header.owner = owner;
  ComputeRecordChecksums(payload, header);
  EncodeRecordHeader(header, std::span<std::byte, kBlockBytes>(block, kBlockBytes));
  return {header.payload_bytes, header.payload_crc};
}

// Recovery: is `block` (+ `payload`, its padded payload, if any was read) the whole, valid
// record with this place and sequence? Sets *payload_bytes from the header when it decodes.
bool IsValidRecord(const std::byte* block, uint64_t extent_id, uint64_t offset, uint64_t sequence,
                   std::span<const std::byte> payload, uint32_t* payload_bytes) {
  auto header = DecodeRecordHeader(std::span<const std::byte, kBlockBytes>(block, kBlockBytes));
  if (!header.ok() || header->record_offset != offset || header->extent_id != extent_id ||
      header->sequence != sequence) {
    return false;
  }
  *payload_bytes = header->payload_bytes;
  if (payload.data() == nullptr) return true;  // header only, for now
  return payload.size() >= header->payload_bytes &&
         VerifySubBlocks(*header, 0, payload.first(header->payload_bytes)).ok();
}

// A range that a record's payload does not hold.
Status OutsideRecord(uint64_t offset_in_payload, uint64_t length, uint64_t payload_bytes) {
  return Status::OutOfRange(fmt::format("range [{}, {}) is outside the record's {} payload bytes", offset_in_payload,
                                        offset_in_payload + length, payload_bytes));
}

// A read whose record a Seal cut off while the read was on the disk: nothing is damaged.
Status CutBySeal(uint64_t extent_id, uint64_t record_offset, uint64_t sealed_length) {
  return Status::OutOfRange(fmt::format("extent {:016x}: the record at {} was cut by a seal at {}", extent_id,
                                        record_offset, sealed_length));
}

// Seal, Delete and WriteRecords of one extent run one at a time.
Status Busy(uint64_t extent_id) {
  return Status::Aborted(fmt::format("extent {:016x} is busy with another seal, delete or copy; retry", extent_id));
}

// Reads: checks the header and the sub-blocks covering [offset_in_payload, +length). `data`
// holds sub-block `first_sub_block` onwards. Returns where the range starts in `data`, and sets
// *facts once the header has verified. With `copy_to`, the covering sub-blocks are copied there
// (as they lie in `data`) in the same pass.
Result<size_t> VerifyRange(const std::byte* header_block, uint64_t extent_id, uint64_t record_offset,
                           uint64_t offset_in_payload, uint64_t length, std::span<const std::byte> data,
                           uint64_t first_sub_block, uint64_t* bad_offset, RecordCache::Facts* facts,
                           uint32_t* range_crc, std::byte* copy_to = nullptr) {
  *bad_offset = record_offset;
  *range_crc = 0;
  auto header = DecodeRecordHeader(std::span<const std::byte, kBlockBytes>(header_block, kBlockBytes));
  if (!header.ok()) return header.status();
  if (header->record_offset != record_offset || header->extent_id != extent_id) {
    return Status::DataLoss("record header names another place");
  }
  *facts = {header->payload_bytes, header->payload_crc};
  if (offset_in_payload + length > header->payload_bytes) {
    return OutsideRecord(offset_in_payload, length, header->payload_bytes);
  }
  if (length == 0) return size_t{0};
  const uint64_t last_sub_block = (offset_in_payload + length - 1) / kSubBlockBytes;
  const uint64_t verify_from = first_sub_block * kSubBlockBytes;
  const uint64_t verify_to = std::min<uint64_t>((last_sub_block + 1) * kSubBlockBytes, header->payload_bytes);
  *bad_offset = record_offset + kBlockBytes + verify_from;
  if (verify_to - verify_from > data.size()) return Status::DataLoss("record extends past the committed length");
  RETURN_IF_ERROR(
      VerifySubBlocks(*header, static_cast<uint32_t>(first_sub_block), data.first(verify_to - verify_from), copy_to));
  // The range's own CRC, for the response: whole sub-blocks inside it give theirs, verified just
  // now; only the parts of sub-blocks at its two ends are computed, at most 128 KiB of bytes.
  if (length == header->payload_bytes) {
    *range_crc = header->payload_crc;
  } else {
    uint32_t crc = 0;
    const uint64_t end = offset_in_payload + length;
    for (uint64_t at = offset_in_payload; at < end;) {
      const uint64_t sub_block = at / kSubBlockBytes;
      const uint64_t sub_block_start = sub_block * kSubBlockBytes;
      const uint64_t sub_block_end = std::min<uint64_t>(sub_block_start + kSubBlockBytes, header->payload_bytes);
      const uint64_t to = std::min(end, sub_block_end);
      if (at == sub_block_start && to == sub_block_end) {
        crc = Crc32cCombine(crc, header->sub_block_crcs[sub_block], to - at);
      } else {
        crc = Crc32c(data.data() + (at - verify_from), to - at, crc);
      }
      at = to;
    }
    *range_crc = crc;
  }
  return static_cast<size_t>(offset_in_payload - verify_from);
}

// The payload length a header block claims, unverified (a read uses it only to decide how much
// more to read; the header is verified right after).
uint64_t PayloadBytesOf(const std::byte* block) {
  return std::min<uint64_t>(LoadLittleEndian<uint32_t>(block + 32), kRecordPayloadBytesMax);
}

// Where the record whose header block is `block` ends, if it is a valid header of this extent at
// `offset`; 0 otherwise.
uint64_t RecordEndAt(const std::byte* block, uint64_t extent_id, uint64_t offset) {
  auto header = DecodeRecordHeader(std::span<const std::byte, kBlockBytes>(block, kBlockBytes));
  if (!header.ok() || header->record_offset != offset || header->extent_id != extent_id) return 0;
  return offset + RecordBytes(header->payload_bytes);
}

}  // namespace

struct ExtentStore::PendingAppend : IntrusiveListNode {
  explicit PendingAppend(Env& env) : done(env) {}
  PooledBuffer header_block;
  std::byte* payload = nullptr;  // the caller's buffer, alive until the append completes
  size_t payload_run_bytes = 0;  // how far its memory may run physically contiguous
  uint64_t offset = 0;
  uint64_t record_bytes = 0;
  uint64_t sequence = 0;
  RecordFacts facts;
  Status status;
  Event done;
};

struct ExtentStore::CommitBatch {
  std::vector<PendingAppend*> items;
  DeviceWritePlan plan;  // the records' bytes, in writes the disk takes whole
  uint64_t first_offset = 0;
  uint64_t end = 0;
  Status status;
  bool written = false;
};

struct ExtentStore::Extent {
  explicit Extent(Env& env) : commit_wakeup(env), idle(env), reserved_advanced(env) { idle.Set(); }
  uint64_t id = 0;
  uint64_t cache_key = 0;  // this incarnation's key in the record cache
  Durability durability = Durability::kSync;
  uint64_t chain_version = 0;
  std::unique_ptr<File> file;
  uint64_t committed_length = kFirstRecordOffset;  // acknowledged
  uint64_t reserved_length = kFirstRecordOffset;   // given to appends, some still in flight
  uint64_t allocated_length = 0;                   // preallocated so far
  uint64_t next_sequence = 1;            // of the next record reserved
  uint64_t next_committed_sequence = 1;  // of the record that will start at committed_length
  uint64_t last_hint_length = kFirstRecordOffset;
  // Record boundaries known for an open extent (from the last hint on), for Seal to check.
  std::vector<uint64_t> record_ends{kFirstRecordOffset};
  bool sealed = false;
  bool sealing = false;
  bool frozen = false;  // Freeze: no appends until sealed (or a restart); a copy may still bring it to a seal
  bool replicating = false;                        // WriteRecords is copying records in
  bool busy = false;                               // a seal, delete or copy runs: one at a time
  Status failure;                                  // an I/O error stopped appends
  IntrusiveList<PendingAppend> pending;
  // A ring of kBatchesInFlightMax, made on the first append: the commit loop reuses them.
  std::vector<std::unique_ptr<CommitBatch>> batches;
  bool committing = false;
  // TailWork (preallocation ahead, the tail hint) runs; the commit loop ends after it.
  bool tail_work_running = false;
  bool allocate_ahead = true;        // false once an allocation ahead failed (a full disk)
  uint64_t hint_failed_length = 0;   // committed_length when a hint last failed: retried a stretch later
  Event commit_wakeup;                             // for the commit loop: an append or a write finished
  Event idle;                                      // set while no commit is running
  Event reserved_advanced;                         // pulsed when reserved_length moves
};

ExtentStore::ExtentStore(Env& env, std::string directory, ExtentStoreOptions options)
    : env_(env),
      directory_(std::move(directory)),
      options_(options),
      record_cache_(options.record_cache_entries),
      payload_cache_(options.payload_cache),
      committers_(env),
      data_loss_(DefaultMetrics().GetCounter("cerulean_storage_data_loss_total",
                                             "Reads or recoveries that found bytes failing their checksum")),
      appends_(DefaultMetrics().GetCounter("cerulean_storage_appends_total", "Records appended")),
      append_bytes_(DefaultMetrics().GetCounter("cerulean_storage_append_bytes_total", "Payload bytes appended")),
      append_latency_ns_(DefaultMetrics().GetHistogram("cerulean_storage_append_latency_ns", "Append latency")),
      read_latency_ns_(DefaultMetrics().GetHistogram("cerulean_storage_read_latency_ns", "Read latency")),
      payload_cache_hits_(DefaultMetrics().GetCounter("cerulean_storage_payload_cache_hits_total",
                                                      "Reads served from the payload cache (no disk read)")),
      payload_cache_misses_(DefaultMetrics().GetCounter("cerulean_storage_payload_cache_misses_total",
                                                        "Reads the payload cache could not serve (it is on)")),
      batch_records_(DefaultMetrics().GetHistogram("cerulean_storage_commit_batch_records",
                                                   "Records per group commit")),
      device_writes_(DefaultMetrics().GetCounter("cerulean_storage_commit_writes_total",
                                                 "Writes issued for group commits (a batch over the disk's limits is several)")) {}

ExtentStore::~ExtentStore() { CHECK(committers_.live() == 0) << "Close() the store first"; }

std::string ExtentStore::ExtentPath(uint64_t id) const {
  return fmt::format("{}/extents/{:016x}{}", directory_, id, kExtentSuffix);
}
std::string ExtentStore::SealPath(uint64_t id) const { return fmt::format("{}/extents/{:016x}.seal", directory_, id); }
std::string ExtentStore::HintPath(uint64_t id) const { return fmt::format("{}/extents/{:016x}.tail", directory_, id); }

ExtentStore::Extent* ExtentStore::Find(uint64_t id) const {
  auto it = extents_.find(id);
  return it == extents_.end() ? nullptr : it->second.get();
}

Status ExtentStore::CountDataLoss(Status status, uint64_t extent_id, uint64_t offset) {
  data_loss_.Increment();
  LOG_ERROR("storage data loss directory={} extent={:016x} offset={} reason={}", directory_, extent_id, offset,
            status.message());
  return Status::DataLoss(fmt::format("extent {:016x} offset {}: {}", extent_id, offset, status.message()));
}

Task<Result<std::unique_ptr<ExtentStore>>> ExtentStore::Open(Env& env, std::string directory,
                                                              ExtentStoreOptions options) {
  CHECK(options.extent_bytes_max > kFirstRecordOffset + RecordBytes(0));
  std::unique_ptr<ExtentStore> store(new ExtentStore(env, std::move(directory), options));
  CO_RETURN_IF_ERROR(env.CreateDirectories(store->directory_ + "/extents"));
  CO_RETURN_IF_ERROR(co_await store->Recover());
  auto space = env.GetDiskSpace(store->directory_);
  if (!space.ok()) co_return space.status();
  store->device_limits_ = env.GetDeviceWriteLimits(store->directory_);
  store->capacity_bytes_ = options.capacity_bytes != 0 ? options.capacity_bytes
                                                       : store->used_bytes_ + space->available_bytes;
  if (options.reserve_bytes == ExtentStoreOptions::kReserveAuto) {
    store->options_.reserve_bytes = std::min<uint64_t>(64ull << 20, store->capacity_bytes_ / 20);
  }
  LOG_INFO("extent store open directory={} extents={} used_bytes={} capacity_bytes={} write_bytes_max={} "
           "write_segments_max={}", store->directory_, store->extents_.size(), store->used_bytes_,
           store->capacity_bytes_, store->device_limits_.request_bytes_max, store->device_limits_.segments_max);
  co_return std::move(store);
}

Task<Status> ExtentStore::Recover() {
  auto names = env_.ListDirectory(directory_ + "/extents");
  if (!names.ok()) co_return names.status();
  for (const std::string& name : *names) {
    if (name.ends_with(".tmp")) {  // a side file whose write a crash interrupted
      CO_RETURN_IF_ERROR(env_.RemoveFile(directory_ + "/extents/" + name));
      continue;
    }
    if (!name.ends_with(kExtentSuffix) || name.size() != 16 + std::strlen(kExtentSuffix)) continue;
    const uint64_t id = std::stoull(name.substr(0, 16), nullptr, 16);
    CO_RETURN_IF_ERROR(co_await RecoverExtent(id));
  }
  co_return Status::Ok();
}

Task<Status> ExtentStore::RecoverExtent(uint64_t id) {
  auto extent = std::make_shared<Extent>(env_);
  extent->id = id;
  extent->cache_key = next_cache_key_++;
  auto file = co_await env_.OpenFile(ExtentPath(id), {.direct = true});
  if (!file.ok()) co_return file.status();
  extent->file = std::move(*file);
  PooledBuffer block = PooledBuffer::Allocate(kBlockBytes);
  auto read = co_await extent->file->Read(0, block.span());
  if (!read.ok()) co_return read.status();
  auto header = *read == kBlockBytes ? DecodeExtentFileHeader(std::span<const std::byte, kBlockBytes>(block.data(), kBlockBytes))
                                     : Result<ExtentFileHeader>(Status::DataLoss("extent file header is torn"));
  if (!header.ok() || header->extent_id != id) {
    // Created but never made durable, or not ours: nothing in it was ever acknowledged.
    LOG_WARN("storage dropping extent without a valid header extent={:016x} reason={}", id,
             header.ok() ? "id mismatch" : header.status().message());
    extent->file.reset();
    CO_RETURN_IF_ERROR(env_.RemoveFile(ExtentPath(id)));
    co_return Status::Ok();
  }
  extent->durability = header->durability;
  extent->chain_version = header->chain_version;
  auto size = extent->file->Size();
  if (!size.ok()) co_return size.status();

  auto seal = co_await ReadSideFile(SealPath(id), kSealMagic);
  if (seal.status().code() != StatusCode::kNotFound) {
    const std::optional<SideFile> decoded = seal.ok() ? *seal : std::nullopt;
    if (!decoded || decoded->first > *size) {
      co_return CountDataLoss(Status::DataLoss("seal file unreadable or beyond the file"), id, 0);
    }
    // Sealed extents are trusted by their sealed length: no scan.
    extent->sealed = true;
    extent->committed_length = extent->reserved_length = decoded->first;
  } else {
    uint64_t from = kFirstRecordOffset;
    uint64_t sequence = 1;
    // A missing or unreadable hint only means a longer scan.
    auto hint = co_await ReadSideFile(HintPath(id), kHintMagic);
    if (hint.ok() && *hint && (*hint)->first <= *size && (*hint)->first >= kFirstRecordOffset) {
      from = (*hint)->first;
      sequence = (*hint)->second;
    }
    auto end = co_await ScanTail(*extent, from, sequence);
    if (!end.ok()) co_return end.status();
    if (*end < *size) {
      LOG_WARN("storage cutting torn tail extent={:016x} from={} to={}", id, *size, *end);
      CO_RETURN_IF_ERROR(co_await extent->file->Truncate(*end));
      CO_RETURN_IF_ERROR(co_await extent->file->DataSync());
    }
    extent->committed_length = extent->reserved_length = *end;
    extent->last_hint_length = from;
    extent->allocated_length = *end;
  }
  used_bytes_ += extent->committed_length;
  extents_.emplace(id, std::move(extent));
  co_return Status::Ok();
}

Task<Result<uint64_t>> ExtentStore::ScanTail(Extent& extent, uint64_t from, uint64_t sequence) {
  auto size = extent.file->Size();
  if (!size.ok()) co_return size.status();
  uint64_t offset = from;
  extent.record_ends = {from};
  PooledBuffer block = PooledBuffer::Allocate(kBlockBytes);
  while (offset + kBlockBytes <= *size) {
    auto got = co_await extent.file->Read(offset, block.span());
    if (!got.ok()) co_return got.status();
    uint32_t payload_bytes = 0;
    // The end, or a torn record: either way nothing after it was acknowledged.
    if (*got != kBlockBytes || !IsValidRecord(block.data(), extent.id, offset, sequence, {}, &payload_bytes)) break;
    const uint64_t record_bytes = RecordBytes(payload_bytes);
    if (offset + record_bytes > *size) break;
    if (payload_bytes > 0) {
      PooledBuffer payload = PooledBuffer::Allocate(RoundUpToBlock(payload_bytes));
      auto payload_got = co_await extent.file->Read(offset + kBlockBytes, payload.span());
      if (!payload_got.ok()) co_return payload_got.status();
      if (*payload_got != payload.size() ||
          !IsValidRecord(block.data(), extent.id, offset, sequence, payload.span(), &payload_bytes)) {
        break;
      }
    }
    offset += record_bytes;
    sequence++;
    recovery_records_scanned_++;
    extent.record_ends.push_back(offset);
  }
  extent.next_sequence = extent.next_committed_sequence = sequence;
  co_return offset;
}

Task<Status> ExtentStore::Create(uint64_t id, Durability durability, uint64_t chain_version) {
  if (closed_) co_return Status::FailedPrecondition("extent store closed");
  if (const Extent* existing = Find(id)) {
    // A retried create (its answer was lost) succeeds; a create of another extent does not.
    if (existing->durability == durability && existing->chain_version == chain_version) co_return Status::Ok();
    co_return Status::AlreadyExists(fmt::format("extent {:016x} exists with other settings", id));
  }
  if (used_bytes_ + kFirstRecordOffset + options_.reserve_bytes > capacity_bytes_) {
    co_return Status::ResourceExhausted(fmt::format("disk {} is full: {} of {} bytes used", directory_, used_bytes_,
                                                    capacity_bytes_));
  }
  auto file = co_await env_.OpenFile(ExtentPath(id), {.create = true, .truncate = true, .direct = true});
  if (!file.ok()) co_return file.status();
  auto extent = std::make_shared<Extent>(env_);
  extent->id = id;
  extent->cache_key = next_cache_key_++;
  extent->durability = durability;
  extent->chain_version = chain_version;
  extent->file = std::move(*file);
  PooledBuffer block = PooledBuffer::Allocate(kBlockBytes);
  EncodeExtentFileHeader({.extent_id = id, .extent_bytes_max = options_.extent_bytes_max, .durability = durability,
                          .chain_version = chain_version},
                         std::span<std::byte, kBlockBytes>(block.data(), kBlockBytes));
  iovec header{block.data(), kBlockBytes};
  CO_RETURN_IF_ERROR(co_await extent->file->Write(0, {&header, 1}));
  const uint64_t preallocate = std::min(options_.preallocate_bytes, options_.extent_bytes_max);
  if ((co_await extent->file->Allocate(0, preallocate, File::AllocateMode::kExtendSize)).ok()) extent->allocated_length = preallocate;
  CO_RETURN_IF_ERROR(co_await extent->file->DataSync());
  CO_RETURN_IF_ERROR(co_await env_.SyncDirectory(directory_ + "/extents"));
  used_bytes_ += kFirstRecordOffset;
  extents_.emplace(id, std::move(extent));
  co_return Status::Ok();
}

Task<Result<AppendResult>> ExtentStore::Append(uint64_t id, PooledBuffer&& payload, AppendOptions options) {
  // Named parameter, so the buffer lives in this frame until the borrowed append is done.
  return [](ExtentStore& store, uint64_t extent_id, PooledBuffer owned,
            AppendOptions append_options) -> Task<Result<AppendResult>> {
    co_return co_await store.Append(extent_id, owned, append_options);
  }(*this, id, std::move(payload), options);
}

Task<Result<AppendResult>> ExtentStore::Append(uint64_t id, PooledBuffer& payload, AppendOptions options) {
  return AppendFrom(id, payload.span(), payload.capacity(), payload.contiguous_run_bytes(), options);
}

Task<Result<AppendResult>> ExtentStore::Append(uint64_t id, std::span<std::byte> payload, size_t room,
                                               AppendOptions options) {
  if (reinterpret_cast<uintptr_t>(payload.data()) % kBlockBytes != 0 || room < RoundUpToBlock(payload.size())) {
    return [](std::span<std::byte> bytes) -> Task<Result<AppendResult>> {
      co_return Status::InvalidArgument(fmt::format("a payload of {} bytes to append from lent memory must be 4 KiB-aligned "
                                                    "with room for its padding", bytes.size()));
    }(payload);
  }
  return AppendFrom(id, payload, room, kBlockBytes, options);  // lent memory: assume 4 KiB pages
}

Task<Result<AppendResult>> ExtentStore::AppendFrom(uint64_t id, std::span<std::byte> payload, size_t room,
                                                   size_t payload_run_bytes,
                                                   AppendOptions options) {
  const TimePoint start = env_.Now();
  if (closed_) co_return Status::FailedPrecondition("extent store closed");
  if (payload.size() > kRecordPayloadBytesMax) {
    co_return Status::InvalidArgument(fmt::format("payload of {} bytes exceeds the record limit of {}",
                                                  payload.size(), kRecordPayloadBytesMax));
  }
  Extent* extent = Find(id);
  std::shared_ptr<Extent> waiting_on;  // keeps an awaited event alive if a Delete drops the extent
  while (true) {
    if (extent == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
    if (options.chain_version && *options.chain_version != extent->chain_version) {
      co_return Status::FailedPrecondition(fmt::format("stale chain version {} for extent {:016x}, which is on {}",
                                                       *options.chain_version, id, extent->chain_version));
    }
    if (extent->sealed || extent->sealing) co_return Status::FailedPrecondition(fmt::format("extent {:016x} is sealed", id));
    if (extent->replicating) {
      co_return Status::FailedPrecondition(fmt::format("extent {:016x} is being re-replicated", id));
    }
    if (!extent->failure.ok()) co_return extent->failure;
    if (options.expected_offset == kAnyOffset || extent->reserved_length >= options.expected_offset) break;
    // A record before ours is still on its way from the head: wait for it to be placed.
    waiting_on = extents_.at(id);
    CO_RETURN_IF_ERROR(co_await waiting_on->reserved_advanced.Wait(options.cancel));
    extent = Find(id);
  }
  if (options.expected_offset != kAnyOffset && extent->reserved_length != options.expected_offset) {
    co_return Status::Aborted(fmt::format("extent {:016x} is at {}, past the expected offset {}", id,
                                          extent->reserved_length, options.expected_offset));
  }
  const uint64_t record_bytes = RecordBytes(payload.size());
  if (record_bytes > options_.extent_bytes_max - kFirstRecordOffset) {
    co_return Status::InvalidArgument(fmt::format("a record of {} bytes never fits in an extent of at most {}",
                                                  record_bytes, options_.extent_bytes_max));
  }
  if (extent->reserved_length + record_bytes > options_.extent_bytes_max) {
    co_return Status::Aborted(fmt::format("extent {:016x} is full", id));
  }
  if (used_bytes_ + record_bytes + options_.reserve_bytes > capacity_bytes_) {
    co_return Status::ResourceExhausted(fmt::format("disk {} is full: {} of {} bytes used, {} kept in reserve",
                                                    directory_, used_bytes_, capacity_bytes_, options_.reserve_bytes));
  }
  PendingAppend item(env_);
  item.offset = extent->reserved_length;
  item.record_bytes = record_bytes;
  item.sequence = extent->next_sequence++;
  item.header_block = PooledBuffer::Allocate(kBlockBytes);
  item.facts = EncodeRecord(id, item.sequence, item.offset, options.owner, payload, item.header_block.data());
  if (options.expected_payload_crc && *options.expected_payload_crc != item.facts.payload_crc) {
    extent->next_sequence--;  // nothing between here and the increment: the record never was
    co_return Status::DataLoss(fmt::format("extent {:016x}: the payload's CRC is {:#010x}, not the {:#010x} it was sent "
                                           "with; changed on the way, not stored",
                                           id, item.facts.payload_crc, *options.expected_payload_crc));
  }
  // Zero the padding in place: the payload goes to disk as it is, without a copy.
  const size_t padded = RoundUpToBlock(payload.size());
  if (padded > payload.size()) {
    CHECK(room >= padded);
    std::memset(payload.data() + payload.size(), 0, padded - payload.size());
  }
  item.payload = payload.data();
  item.payload_run_bytes = payload_run_bytes;
  extent->reserved_length += record_bytes;
  used_bytes_ += record_bytes;
  extent->reserved_advanced.Set();
  extent->reserved_advanced.Reset();
  extent->pending.PushBack(&item);
  if (extent->committing) {
    extent->commit_wakeup.Set();
  } else {
    extent->committing = true;
    extent->idle.Reset();
    committers_.Spawn(CommitLoop(*extent));
  }
  Status waited = co_await item.done.Wait();
  CHECK(waited.ok());
  if (!item.status.ok()) co_return item.status;
  appends_.Increment();
  append_bytes_.Increment(item.facts.payload_bytes);
  append_latency_ns_.Record(static_cast<uint64_t>((env_.Now() - start).count()));
  co_return AppendResult{.record_offset = item.offset,
                         .sequence = item.sequence,
                         .payload_bytes = item.facts.payload_bytes,
                         .payload_crc = item.facts.payload_crc,
                         .extent_length = item.offset + record_bytes};
}

Task<void> ExtentStore::CommitLoop(Extent& extent) {
  while (extent.batches.size() < kBatchesInFlightMax) extent.batches.push_back(std::make_unique<CommitBatch>());
  size_t oldest = 0;  // ring index of the oldest batch in flight
  size_t in_flight = 0;
  while (true) {
    // Reset first: a wakeup during the awaits below is kept for the wait at the end.
    extent.commit_wakeup.Reset();
    // Acknowledge finished batches in offset order.
    while (in_flight > 0 && extent.batches[oldest]->written) {
      CommitBatch& batch = *extent.batches[oldest];
      oldest = (oldest + 1) % kBatchesInFlightMax;
      in_flight--;
      FinishBatch(extent, batch);
    }
    // Start batches while there is work and room: the disk takes them in parallel.
    while (in_flight < kBatchesInFlightMax && !extent.pending.empty() && extent.failure.ok()) {
      CommitBatch& batch = *extent.batches[(oldest + in_flight) % kBatchesInFlightMax];
      in_flight++;
      FormBatch(extent, batch);
      if (batch.end > extent.allocated_length) {
        // The tail work allocates ahead of the appends, so this wait is rare: a write past the
        // file's size would be punted by io_uring and serialised by ext4.
        while (extent.tail_work_running) {
          Status woken = co_await extent.commit_wakeup.Wait();
          CHECK(woken.ok());
          extent.commit_wakeup.Reset();
        }
        extent.commit_wakeup.Set();  // what woke the waits above may be a batch: look again below
        if (batch.end > extent.allocated_length) {
          // Preallocate the next stretch; a failure here only costs contiguity.
          const uint64_t grow = std::min(std::max(batch.end - extent.allocated_length, options_.preallocate_bytes),
                                         options_.extent_bytes_max - extent.allocated_length);
          if ((co_await extent.file->Allocate(extent.allocated_length, grow, File::AllocateMode::kExtendSize)).ok()) {
            extent.allocated_length += grow;
          }
        }
      }
      committers_.Spawn(WriteBatch(extent, batch));
    }
    if (!extent.tail_work_running && extent.failure.ok() && (TailHintDue(extent) || AllocationDue(extent))) {
      extent.tail_work_running = true;
      committers_.Spawn(TailWork(extent));
    }
    if (in_flight == 0 && !extent.tail_work_running && (extent.pending.empty() || !extent.failure.ok())) break;
    // A batch or the tail work finishes, or an append arrives.
    Status woken = co_await extent.commit_wakeup.Wait();
    CHECK(woken.ok());
  }
  if (!extent.failure.ok() && extent.reserved_length != extent.committed_length) {
    // What was queued behind the failure fails too; the unacknowledged tail is cut off.
    while (PendingAppend* item = extent.pending.PopFront()) {
      used_bytes_ -= item->record_bytes;
      item->status = extent.failure;
      item->done.Set();
    }
    extent.reserved_length = extent.committed_length;
    extent.next_sequence = extent.next_committed_sequence;
    extent.reserved_advanced.Set();  // waiters see the failure
    extent.reserved_advanced.Reset();
    Status cut = co_await extent.file->Truncate(extent.committed_length);
    (void)cut;  // best effort: recovery would cut an unacknowledged tail anyway
    extent.allocated_length = std::min(extent.allocated_length, extent.committed_length);
  }
  extent.committing = false;
  extent.idle.Set();
}

void ExtentStore::FormBatch(Extent& extent, CommitBatch& batch) {
  batch.written = false;
  batch.items.clear();
  batch.first_offset = extent.pending.Front()->offset;
  batch.plan.Start(batch.first_offset, device_limits_);
  uint64_t bytes = 0;
  while (PendingAppend* item = extent.pending.Front()) {
    if (!batch.items.empty() && (batch.items.size() >= kBatchRecordsMax || bytes + item->record_bytes > kBatchBytesMax)) {
      break;
    }
    extent.pending.PopFront();
    batch.items.push_back(item);
    batch.plan.Add(item->header_block.data(), kBlockBytes, item->header_block.contiguous_run_bytes());
    if (item->record_bytes > kBlockBytes) {
      batch.plan.Add(item->payload, item->record_bytes - kBlockBytes, item->payload_run_bytes);
    }
    bytes += item->record_bytes;
  }
  batch.end = batch.first_offset + bytes;
}

Task<void> ExtentStore::WriteBatch(Extent& extent, CommitBatch& batch) {
  const std::span<const DeviceWrite> planned = batch.plan.writes();
  device_writes_.Increment(planned.size());
  const bool durable = extent.durability == Durability::kSync;
  if (planned.size() == 1) {
    batch.status = co_await WriteToDevice(*extent.file, planned[0].offset, batch.plan.IovecsOf(planned[0]), durable);
  } else {
    // All at once; each is durable by itself, so the batch is when all are. A crash between them
    // leaves a hole that recovery cuts at, and none of the batch was acknowledged.
    std::vector<Task<Status>> writes;
    for (const DeviceWrite& write : planned) {
      writes.push_back(WriteToDevice(*extent.file, write.offset, batch.plan.IovecsOf(write), durable));
    }
    std::vector<Status> statuses = co_await WhenAll(std::move(writes));
    batch.status = Status::Ok();
    for (Status& status : statuses) {
      if (!status.ok()) {
        batch.status = std::move(status);
        break;
      }
    }
  }
  batch.written = true;
  extent.commit_wakeup.Set();
}

Task<Status> ExtentStore::WriteToDevice(File& file, uint64_t offset, std::span<const iovec> data, bool durable) {
  // (No co_await inside ?: — g++ 12 miscompiles it.)
  if (durable) co_return co_await file.WriteDurable(offset, data);
  co_return co_await file.Write(offset, data);
}

void ExtentStore::FinishBatch(Extent& extent, CommitBatch& batch) {
  batch_records_.Record(batch.items.size());
  if (batch.status.ok() && extent.failure.ok()) {
    CHECK_EQ(batch.first_offset, extent.committed_length);
    extent.committed_length = batch.end;
    extent.next_committed_sequence = batch.items.back()->sequence + 1;
    for (PendingAppend* item : batch.items) {
      extent.record_ends.push_back(item->offset + item->record_bytes);
      if (item->facts.payload_bytes <= kSubBlockBytes) {
        record_cache_.Insert(extent.cache_key, item->offset, {item->facts.payload_bytes, item->facts.payload_crc});
      }
      item->status = Status::Ok();
      item->done.Set();
    }
    return;
  }
  if (extent.failure.ok()) {
    // The extent takes no more appends; what was acknowledged stays, the rest is cut off.
    LOG_ERROR("storage append failed extent={:016x} offset={} error={}", extent.id, batch.first_offset,
              batch.status.ToString());
    extent.failure = batch.status.code() == StatusCode::kResourceExhausted
                         ? batch.status
                         : Status::Unavailable(fmt::format("extent {:016x} failed: {}", extent.id, batch.status.message()));
  }
  // A batch after a failed one fails too, even if it was written: it would follow a hole.
  for (PendingAppend* item : batch.items) {
    used_bytes_ -= item->record_bytes;
    item->status = extent.failure;
    item->done.Set();
  }
}

Task<Result<std::optional<ExtentStore::SideFile>>> ExtentStore::ReadSideFile(const std::string& path,
                                                                             uint32_t magic) {
  auto file = co_await env_.OpenFile(path, {.read_only = true});
  if (!file.ok()) co_return file.status();
  std::array<std::byte, 64> bytes{};
  auto got = co_await (*file)->Read(0, bytes);
  if (!got.ok()) co_return got.status();
  co_return DecodeSideFile(magic, std::span(bytes).first(*got));
}

Task<Status> ExtentStore::WriteSmallFile(const std::string& path, std::span<const std::byte> bytes) {
  const std::string temporary = path + ".tmp";
  auto file = co_await env_.OpenFile(temporary, {.create = true, .truncate = true});
  if (!file.ok()) co_return file.status();
  iovec data{const_cast<std::byte*>(bytes.data()), bytes.size()};
  CO_RETURN_IF_ERROR(co_await (*file)->Write(0, {&data, 1}));
  CO_RETURN_IF_ERROR(co_await (*file)->DataSync());
  file->reset();
  CO_RETURN_IF_ERROR(co_await env_.RenameFile(temporary, path));
  co_return co_await env_.SyncDirectory(directory_ + "/extents");
}

bool ExtentStore::TailHintDue(const Extent& extent) const {
  return extent.committed_length - std::max(extent.last_hint_length, extent.hint_failed_length) >=
         options_.tail_hint_interval_bytes;
}

bool ExtentStore::AllocationDue(const Extent& extent) const {
  // Half a stretch ahead of the accepted appends, so that their batches find the space there.
  return extent.allocate_ahead && extent.allocated_length < options_.extent_bytes_max &&
         extent.reserved_length + options_.preallocate_bytes / 2 >= extent.allocated_length;
}

Task<void> ExtentStore::TailWork(Extent& extent) {
  // Beside the commit loop, which keeps writing and acknowledging meanwhile: a hint costs two
  // journal commits (the file's sync, the directory's), an allocation one. A failure is not
  // retried at once: the loop would spin on a full disk.
  while (extent.failure.ok()) {
    if (AllocationDue(extent)) {
      const uint64_t grow = std::min(options_.preallocate_bytes, options_.extent_bytes_max - extent.allocated_length);
      if ((co_await extent.file->Allocate(extent.allocated_length, grow, File::AllocateMode::kExtendSize)).ok()) {
        extent.allocated_length += grow;
      } else {
        extent.allocate_ahead = false;  // only contiguity is lost; the commit loop allocates what a batch needs
      }
    } else if (TailHintDue(extent)) {
      Status hinted = co_await WriteTailHint(extent);
      if (!hinted.ok()) {
        LOG_WARN("storage tail hint failed extent={:016x} error={}", extent.id, hinted.ToString());
        extent.hint_failed_length = extent.committed_length;
      }
    } else {
      break;
    }
  }
  extent.tail_work_running = false;
  extent.commit_wakeup.Set();
}

Task<Status> ExtentStore::WriteTailHint(Extent& extent) {
  const uint64_t length = extent.committed_length;
  const uint64_t sequence_at_length = extent.next_committed_sequence;
  // The hint must never point past durable data: cache extents are synced first.
  if (extent.durability == Durability::kNone) CO_RETURN_IF_ERROR(co_await extent.file->DataSync());
  auto bytes = EncodeSideFile(kHintMagic, {length, sequence_at_length});
  CO_RETURN_IF_ERROR(co_await WriteSmallFile(HintPath(extent.id), bytes));
  extent.last_hint_length = length;
  // Boundaries before the hint are no longer needed by Seal's check.
  std::erase_if(extent.record_ends, [&](uint64_t end) { return end < length; });
  co_return Status::Ok();
}

Task<Result<ReadResult>> ExtentStore::Read(uint64_t id, uint64_t record_offset, uint64_t offset_in_payload,
                                           uint64_t length, std::span<std::byte> landing, bool may_answer_from_cache) {
  const TimePoint start = env_.Now();
  ExpireLoans();
  Extent* extent = Find(id);
  if (extent == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
  if (record_offset < kFirstRecordOffset || record_offset % kBlockBytes != 0 ||
      record_offset + kBlockBytes > extent->committed_length) {
    co_return Status::OutOfRange(fmt::format("extent {:016x} has no committed record at offset {}", id, record_offset));
  }
  if (offset_in_payload > kRecordPayloadBytesMax || length > kRecordPayloadBytesMax) {
    co_return Status::OutOfRange(fmt::format("range [{}, +{}) is larger than any record", offset_in_payload, length));
  }
  if (!landing.empty() && (reinterpret_cast<uintptr_t>(landing.data()) % kBlockBytes != 0 ||
                           landing.size() < ReadLandingBytes(length))) {
    co_return Status::InvalidArgument(fmt::format("a read of {} bytes needs {} bytes of 4 KiB-aligned memory to land in",
                                                  length, ReadLandingBytes(length)));
  }
  // Holding a reference keeps the extent alive if it is deleted while this read is on disk.
  std::shared_ptr<Extent> keep = extents_.at(id);
  auto result = co_await ReadRecord(*keep, record_offset, offset_in_payload, length, landing,
                                    may_answer_from_cache && !landing.empty());
  read_latency_ns_.Record(static_cast<uint64_t>((env_.Now() - start).count()));
  co_return result;
}

uint64_t ExtentStore::LendCached(const ReadResult& result) {
  CHECK(result.cached != nullptr);
  loans_.emplace_back(env_.Now() + options_.cache_loan, result.cached);
  return payload_cache_.OffsetOf(*result.cached) + result.offset;
}

void ExtentStore::ExpireLoans() {
  if (loans_.empty()) return;
  const TimePoint now = env_.Now();
  while (!loans_.empty() && loans_.front().first <= now) loans_.pop_front();
}

Task<Result<ReadResult>> ExtentStore::ReadRecord(Extent& extent, uint64_t record_offset, uint64_t offset_in_payload,
                                                 uint64_t length, std::span<std::byte> landing,
                                                 bool may_answer_from_cache) {
  // For a client that copies out of the cache itself, a small record is read into this node's
  // memory, to be kept and lent, rather than into the client's (the storage service copies it there
  // if it is not kept).
  if (may_answer_from_cache && offset_in_payload == 0 && length < kSubBlockBytes && payload_cache_.Admits(length)) {
    landing = {};
  }
  if (payload_cache_.enabled()) {
    if (std::shared_ptr<const CachedRecord> cached = payload_cache_.Find(extent.cache_key, record_offset)) {
      Result<ReadResult> served = ReadCachedRecord(extent, record_offset, cached, offset_in_payload, length,
                                                   may_answer_from_cache ? std::span<std::byte>() : landing);
      if (served.ok() || served.status().code() != StatusCode::kDataLoss) {
        payload_cache_hits_.Increment();
        co_return served;
      }
      // The cached copy went bad in memory (counted and logged): dropped, and read from the disk.
      payload_cache_.Erase(extent.cache_key, record_offset);
    }
    payload_cache_misses_.Increment();
  }
  if (auto facts = record_cache_.Find(extent.cache_key, record_offset)) {
    co_return co_await ReadSmallRecord(extent, record_offset, *facts, offset_in_payload, length, landing);
  }
  const uint64_t payload_start = record_offset + kBlockBytes;
  const uint64_t first_sub_block = offset_in_payload / kSubBlockBytes;
  const uint64_t end_in_payload = offset_in_payload + std::max<uint64_t>(length, 1);
  const uint64_t covered_end = (end_in_payload + kSubBlockBytes - 1) / kSubBlockBytes * kSubBlockBytes;
  const uint64_t limit = extent.committed_length;
  // One read when the range starts in the first sub-block (header and data are adjacent);
  // otherwise the header, then the covering sub-blocks.
  const uint64_t data_from = first_sub_block == 0 ? record_offset : payload_start + first_sub_block * kSubBlockBytes;
  // The covering sub-blocks may end past the range, but the payload may end sooner, and its size
  // is in the header. So read to the end of the range first (all of it, for the usual read of a
  // whole record), and the rest of the last sub-block only if the record really goes on.
  const uint64_t covered_to = std::min(payload_start + RoundUpToBlock(covered_end), limit);
  const uint64_t speculative_to = std::min(payload_start + RoundUpToBlock(end_in_payload), limit);
  PooledBuffer header_block;
  if (first_sub_block != 0) {
    header_block = PooledBuffer::Allocate(kBlockBytes);
    auto got = co_await extent.file->Read(record_offset, header_block.span());
    if (record_offset + kBlockBytes > extent.committed_length) {
      co_return CutBySeal(extent.id, record_offset, extent.committed_length);
    }
    if (!got.ok()) co_return CountDataLoss(got.status(), extent.id, record_offset);
    if (*got != kBlockBytes) co_return CountDataLoss(Status::DataLoss("short read of a record header"), extent.id, record_offset);
  }
  if (speculative_to <= data_from) co_return Status::OutOfRange(fmt::format("range past extent {:016x}'s committed length", extent.id));
  // A record read from its start, a sub-block or more of it, lands in the payload cache's
  // memory if the cache would keep it: keeping it then costs no copy. (A same-host client gets
  // a copy instead of the disk's read straight into its memory: bytes that landed there could
  // not be kept, since the client may change them.)
  std::shared_ptr<CachedRecord> reserved;
  if (offset_in_payload == 0 && length >= kSubBlockBytes && payload_cache_.Admits(length)) {
    reserved = payload_cache_.Reserve(covered_to - data_from);
  }
  PooledBuffer pooled;
  std::span<std::byte> data;
  if (reserved != nullptr) {
    data = reserved->bytes;
  } else if (landing.empty()) {
    pooled = PooledBuffer::Allocate(covered_to - data_from);
    data = pooled.span();
  } else {
    data = landing.first(covered_to - data_from);  // ReadLandingBytes covers it
  }
  auto got = co_await extent.file->Read(data_from, data.first(speculative_to - data_from));
  if (speculative_to > extent.committed_length) {
    co_return CutBySeal(extent.id, record_offset, extent.committed_length);
  }
  if (!got.ok()) co_return CountDataLoss(got.status(), extent.id, data_from);
  if (*got != speculative_to - data_from) co_return CountDataLoss(Status::DataLoss("short read"), extent.id, data_from);
  uint64_t data_to = speculative_to;
  const std::byte* header_peek = first_sub_block == 0 ? data.data() : header_block.data();
  const uint64_t needed_to = std::min(covered_to, payload_start + RoundUpToBlock(PayloadBytesOf(header_peek)));
  if (needed_to > data_to) {
    auto rest = co_await extent.file->Read(data_to, data.subspan(data_to - data_from, needed_to - data_to));
    if (needed_to > extent.committed_length) {
      co_return CutBySeal(extent.id, record_offset, extent.committed_length);
    }
    if (!rest.ok()) co_return CountDataLoss(rest.status(), extent.id, data_to);
    if (*rest != needed_to - data_to) co_return CountDataLoss(Status::DataLoss("short read"), extent.id, data_to);
    data_to = needed_to;
  }
  const std::byte* header_bytes = first_sub_block == 0 ? data.data() : header_block.data();
  const size_t sub_blocks_at = first_sub_block == 0 ? kBlockBytes : 0;
  uint64_t bad_offset = 0;
  RecordCache::Facts facts;
  uint32_t result_crc = 0;
  // A same-host client's copy of a read that lands in the cache is made while verifying, unless
  // it copies out of the cache itself.
  std::byte* copy_to = reserved != nullptr && !landing.empty() && !may_answer_from_cache ? landing.data() : nullptr;
  auto start_in_sub_blocks = VerifyRange(header_bytes, extent.id, record_offset, offset_in_payload, length,
                                         data.first(data_to - data_from).subspan(sub_blocks_at),
                                         first_sub_block, &bad_offset, &facts, &result_crc, copy_to);
  if (!start_in_sub_blocks.ok()) {
    if (start_in_sub_blocks.status().code() == StatusCode::kOutOfRange) co_return start_in_sub_blocks.status();
    co_return CountDataLoss(start_in_sub_blocks.status(), extent.id, bad_offset);
  }
  if (facts.payload_bytes <= kSubBlockBytes) record_cache_.Insert(extent.cache_key, record_offset, facts);
  ReadResult result;
  result.length = length;
  result.offset = sub_blocks_at + *start_in_sub_blocks;
  result.crc = result_crc;
  const bool whole = first_sub_block == 0 && data_to >= payload_start + RoundUpToBlock(facts.payload_bytes);
  if (reserved != nullptr) {
    reserved->with_header = true;
    reserved->facts = facts;
    if (whole) {
      reserved->bytes = reserved->bytes.first(kBlockBytes + RoundUpToBlock(facts.payload_bytes));
      payload_cache_.Insert(extent.cache_key, record_offset, reserved);
    }
    if (copy_to != nullptr) {
      result.landed = landing;
      result.offset = *start_in_sub_blocks;  // the copy starts at the range's first sub-block
      co_return result;
    }
    result.cached = std::move(reserved);
    co_return result;
  }
  if (!landing.empty()) {
    result.landed = data;
    co_return result;
  }
  // A small record read whole is worth keeping: a copy of at most a sub-block.
  if (whole && facts.payload_bytes <= kSubBlockBytes) {
    if (auto kept = KeepSmallPayload(extent, record_offset, facts,
                                     data.subspan(kBlockBytes, RoundUpToBlock(facts.payload_bytes)))) {
      result.cached = std::move(kept);
      result.offset = offset_in_payload;
      co_return result;
    }
  }
  result.buffer = std::move(pooled);
  co_return result;
}

std::shared_ptr<const CachedRecord> ExtentStore::KeepSmallPayload(const Extent& extent, uint64_t record_offset,
                                                                  RecordCache::Facts facts,
                                                                  std::span<const std::byte> padded) {
  if (!payload_cache_.Admits(facts.payload_bytes)) return nullptr;
  std::shared_ptr<CachedRecord> kept = payload_cache_.Reserve(padded.size());
  if (kept == nullptr) return nullptr;
  std::memcpy(kept->bytes.data(), padded.data(), padded.size());
  kept->facts = facts;
  payload_cache_.Insert(extent.cache_key, record_offset, kept);
  return kept;
}

Result<ReadResult> ExtentStore::ReadCachedRecord(Extent& extent, uint64_t record_offset,
                                                 const std::shared_ptr<const CachedRecord>& cached,
                                                 uint64_t offset_in_payload, uint64_t length, std::span<std::byte> landing) {
  const RecordCache::Facts facts = cached->facts;
  // A Seal cuts at record boundaries, never inside one; a record it cut is not served.
  if (record_offset + RecordBytes(facts.payload_bytes) > extent.committed_length) {
    return CutBySeal(extent.id, record_offset, extent.committed_length);
  }
  if (offset_in_payload + length > facts.payload_bytes) return OutsideRecord(offset_in_payload, length, facts.payload_bytes);
  // Verified again, as if read from the disk: memory that went bad since is never served.
  uint32_t crc = 0;
  if (cached->with_header) {
    const uint64_t first_sub_block = offset_in_payload / kSubBlockBytes;
    uint64_t bad_offset = 0;
    RecordCache::Facts verified;
    auto start = VerifyRange(cached->bytes.data(), extent.id, record_offset, offset_in_payload, length,
                             std::span<const std::byte>(cached->bytes).subspan(kBlockBytes + first_sub_block * kSubBlockBytes),
                             first_sub_block, &bad_offset, &verified, &crc);
    if (!start.ok()) return CountDataLoss(start.status(), extent.id, bad_offset);
  } else {
    const uint32_t whole = Crc32c(cached->payload());  // one sub-block at most
    if (whole != facts.payload_crc) {
      return CountDataLoss(Status::DataLoss(fmt::format("cached payload checksum {:#010x}, computed {:#010x}",
                                                        facts.payload_crc, whole)),
                           extent.id, record_offset + kBlockBytes);
    }
    crc = offset_in_payload == 0 && length == facts.payload_bytes ? whole
                                                                  : Crc32c(cached->payload().subspan(offset_in_payload, length));
  }
  ReadResult result;
  result.length = length;
  result.crc = crc;
  if (!landing.empty()) {
    if (length > 0) std::memcpy(landing.data(), cached->payload().data() + offset_in_payload, length);
    result.landed = landing;
    return result;
  }
  result.offset = cached->payload_at() + offset_in_payload;
  result.cached = cached;
  return result;
}

Task<Result<ReadResult>> ExtentStore::ReadSmallRecord(Extent& extent, uint64_t record_offset,
                                                      RecordCache::Facts facts, uint64_t offset_in_payload,
                                                      uint64_t length, std::span<std::byte> landing) {
  if (offset_in_payload + length > facts.payload_bytes) {
    co_return OutsideRecord(offset_in_payload, length, facts.payload_bytes);
  }
  const uint64_t payload_start = record_offset + kBlockBytes;
  const uint64_t padded = RoundUpToBlock(facts.payload_bytes);
  if (payload_start + padded > extent.committed_length) {
    co_return CutBySeal(extent.id, record_offset, extent.committed_length);
  }
  ReadResult result;
  result.offset = offset_in_payload;
  result.length = length;
  if (facts.payload_bytes == 0) co_return result;
  // The whole payload (one sub-block at most), checked against the CRC its header held.
  std::shared_ptr<CachedRecord> reserved;
  if (landing.empty() && payload_cache_.Admits(facts.payload_bytes)) reserved = payload_cache_.Reserve(padded);
  std::span<std::byte> payload;
  if (reserved != nullptr) {
    payload = reserved->bytes;
  } else if (landing.empty()) {
    result.buffer = PooledBuffer::Allocate(padded);
    payload = result.buffer.span();
  } else {
    payload = result.landed = landing.first(padded);
  }
  auto got = co_await extent.file->Read(payload_start, payload);
  // A Seal may have cut the record while the read was on the disk: that is not damage.
  if (payload_start + padded > extent.committed_length) {
    co_return CutBySeal(extent.id, record_offset, extent.committed_length);
  }
  if (!got.ok()) co_return CountDataLoss(got.status(), extent.id, payload_start);
  if (*got != padded) co_return CountDataLoss(Status::DataLoss("short read"), extent.id, payload_start);
  const uint32_t crc = Crc32c(payload.first(facts.payload_bytes));
  if (crc != facts.payload_crc) {
    co_return CountDataLoss(Status::DataLoss(fmt::format("payload checksum {:#010x}, computed {:#010x}",
                                                         facts.payload_crc, crc)),
                            extent.id, payload_start);
  }
  result.crc = offset_in_payload == 0 && length == facts.payload_bytes
                   ? crc
                   : Crc32c(payload.subspan(offset_in_payload, length));  // at most 64 KiB
  if (reserved != nullptr) {
    reserved->facts = facts;
    payload_cache_.Insert(extent.cache_key, record_offset, reserved);
    result.cached = std::move(reserved);
  }
  co_return result;
}

Task<Result<ExtentStore::RawRecords>> ExtentStore::ReadRecords(uint64_t id, uint64_t from_offset, uint64_t bytes_max) {
  Extent* found = Find(id);
  if (found == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
  std::shared_ptr<Extent> extent = extents_.at(id);
  if (from_offset < kFirstRecordOffset || from_offset % kBlockBytes != 0 || from_offset > extent->committed_length) {
    co_return Status::OutOfRange(fmt::format("extent {:016x}: {} is not a committed record boundary", id, from_offset));
  }
  // Find how far whole records go within the budget, then read them in one go and verify each.
  uint64_t end = from_offset;
  PooledBuffer block = PooledBuffer::Allocate(kBlockBytes);
  while (end < extent->committed_length) {
    auto got = co_await extent->file->Read(end, block.span());
    if (!got.ok()) co_return CountDataLoss(got.status(), id, end);
    uint32_t payload_bytes = 0;
    auto header = DecodeRecordHeader(std::span<const std::byte, kBlockBytes>(block.data(), kBlockBytes));
    if (*got != kBlockBytes || !header.ok() || header->record_offset != end || header->extent_id != id) {
      if (end == from_offset) {
        co_return Status::OutOfRange(fmt::format("extent {:016x}: {} is not a record boundary", id, from_offset));
      }
      co_return CountDataLoss(header.ok() ? Status::DataLoss("record header names another place") : header.status(), id, end);
    }
    payload_bytes = header->payload_bytes;
    const uint64_t next = end + RecordBytes(payload_bytes);
    if (next > extent->committed_length) co_return CountDataLoss(Status::DataLoss("record past the committed length"), id, end);
    // At least one record, unless the caller asked for none.
    if (next - from_offset > bytes_max && (end > from_offset || bytes_max == 0)) break;
    end = next;
  }
  RawRecords records;
  records.end_offset = end;
  if (end == from_offset) co_return records;
  records.bytes = PooledBuffer::Allocate(end - from_offset);
  auto got = co_await extent->file->Read(from_offset, records.bytes.span());
  if (!got.ok()) co_return CountDataLoss(got.status(), id, from_offset);
  if (*got != records.bytes.size()) co_return CountDataLoss(Status::DataLoss("short read"), id, from_offset);
  for (uint64_t offset = from_offset; offset < end;) {
    const std::byte* at = records.bytes.data() + (offset - from_offset);
    auto header = DecodeRecordHeader(std::span<const std::byte, kBlockBytes>(at, kBlockBytes));
    if (!header.ok()) co_return CountDataLoss(header.status(), id, offset);
    Status verified = VerifySubBlocks(*header, 0, std::span<const std::byte>(at + kBlockBytes, header->payload_bytes));
    if (!verified.ok()) co_return CountDataLoss(verified, id, offset);
    offset += RecordBytes(header->payload_bytes);
  }
  co_return records;
}

Task<Status> ExtentStore::WriteRecords(uint64_t id, std::span<const std::byte> records) {
  Extent* found = Find(id);
  if (found == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
  std::shared_ptr<Extent> extent = extents_.at(id);
  // A frozen replica that missed the seal (it was shorter) is brought to it by a copy.
  if (extent->sealed || (extent->sealing && !extent->frozen)) {
    co_return Status::FailedPrecondition(fmt::format("extent {:016x} is sealed", id));
  }
  if (!extent->failure.ok()) co_return extent->failure;
  if (extent->busy) co_return Busy(extent->id);
  if (extent->committing || extent->reserved_length != extent->committed_length) {
    co_return Status::FailedPrecondition(fmt::format("extent {:016x} is taking appends", id));
  }
  // Check every record before writing any: a bad copy must not land.
  uint64_t offset = extent->committed_length;
  uint64_t sequence = extent->next_committed_sequence;
  std::vector<uint64_t> ends;
  for (size_t position = 0; position < records.size();) {
    if (records.size() - position < kBlockBytes) co_return Status::DataLoss("a record cut short in the copy");
    auto header = DecodeRecordHeader(std::span<const std::byte, kBlockBytes>(records.data() + position, kBlockBytes));
    if (!header.ok()) co_return CountDataLoss(header.status(), id, offset);
    if (header->extent_id != id || header->record_offset != offset || header->sequence != sequence) {
      co_return Status::Aborted(fmt::format("extent {:016x}: the copy's record at {} (sequence {}) does not follow "
                                            "this replica's end {} (sequence {})", id, header->record_offset,
                                            header->sequence, offset, sequence));
    }
    const uint64_t record_bytes = RecordBytes(header->payload_bytes);
    if (records.size() - position < record_bytes) co_return Status::DataLoss("a record cut short in the copy");
    Status verified = VerifySubBlocks(*header, 0, records.subspan(position + kBlockBytes, header->payload_bytes));
    if (!verified.ok()) co_return CountDataLoss(verified, id, offset);
    position += record_bytes;
    offset += record_bytes;
    sequence++;
    ends.push_back(offset);
  }
  if (offset == extent->committed_length) co_return Status::Ok();
  if (used_bytes_ + (offset - extent->committed_length) + options_.reserve_bytes > capacity_bytes_) {
    co_return Status::ResourceExhausted(fmt::format("disk {} is full", directory_));
  }
  // O_DIRECT wants an aligned buffer; the copy arrived in a pooled one or is copied once here.
  PooledBuffer aligned;
  const std::byte* source = records.data();
  if (reinterpret_cast<uintptr_t>(source) % kBlockBytes != 0) {
    aligned = PooledBuffer::Allocate(records.size());
    std::memcpy(aligned.data(), records.data(), records.size());
    source = aligned.data();
  }
  extent->replicating = true;  // appends are refused until the copy has landed
  extent->busy = true;         // and seals and deletes
  iovec piece{const_cast<std::byte*>(source), records.size()};
  Status written = co_await extent->file->Write(extent->committed_length, {&piece, 1});
  if (written.ok()) written = co_await extent->file->DataSync();
  if (written.ok()) {
    used_bytes_ += offset - extent->committed_length;
    extent->committed_length = extent->reserved_length = offset;
    extent->next_sequence = extent->next_committed_sequence = sequence;
    extent->record_ends.insert(extent->record_ends.end(), ends.begin(), ends.end());
  } else {
    Status cut = co_await extent->file->Truncate(extent->committed_length);
    (void)cut;  // recovery cuts an unacknowledged tail anyway
    extent->allocated_length = extent->committed_length;
  }
  extent->replicating = false;
  extent->busy = false;
  co_return written;
}

Task<void> ExtentStore::StopAppends(Extent& extent) {
  extent.sealing = true;             // new appends are refused
  extent.reserved_advanced.Set();    // and so is a replica append waiting for its turn
  extent.reserved_advanced.Reset();
  while (extent.committing) {        // those accepted land (or fail)
    Status idle = co_await extent.idle.Wait();
    CHECK(idle.ok());
  }
}

Task<Result<ExtentInfo>> ExtentStore::Freeze(uint64_t id) {
  if (Find(id) == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
  // Held across the wait: a Delete may drop the map's reference meanwhile.
  std::shared_ptr<Extent> extent = extents_.at(id);
  if (extent->replicating) co_return Busy(id);  // its length is still growing: ask again
  if (!extent->sealed) {
    extent->frozen = true;
    co_await StopAppends(*extent);
  }
  co_return Info(id);
}

Task<Status> ExtentStore::Seal(uint64_t id, uint64_t length) {
  if (Find(id) == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
  // Held across the awaits: a Delete may drop the map's reference meanwhile.
  std::shared_ptr<Extent> extent = extents_.at(id);
  if (extent->sealed) {
    if (extent->committed_length == length) co_return Status::Ok();  // sealing twice is fine
    co_return Status::FailedPrecondition(fmt::format("extent {:016x} is sealed at {}, not {}", id,
                                                     extent->committed_length, length));
  }
  if (extent->busy) co_return Busy(extent->id);
  extent->busy = true;
  Status sealed = co_await SealBusy(*extent, length);
  extent->busy = false;
  co_return sealed;
}

Task<Status> ExtentStore::SealBusy(Extent& extent, uint64_t length) {
  const uint64_t id = extent.id;
  co_await StopAppends(extent);
  bool boundary = length == extent.committed_length ||
                  std::find(extent.record_ends.begin(), extent.record_ends.end(), length) != extent.record_ends.end();
  if (!boundary && length <= extent.committed_length) {
    // Before the last tail hint (or restart) boundaries are not kept: walk the record headers
    // from the nearest known boundary below `length`.
    uint64_t offset = kFirstRecordOffset;
    for (uint64_t end : extent.record_ends) {
      if (end <= length) offset = std::max(offset, end);
    }
    PooledBuffer block = PooledBuffer::Allocate(kBlockBytes);
    while (offset < length) {
      auto got = co_await extent.file->Read(offset, block.span());
      if (!got.ok() || *got != kBlockBytes) break;
      const uint64_t next = RecordEndAt(block.data(), extent.id, offset);
      if (next == 0) break;
      offset = next;
    }
    boundary = offset == length;
  }
  if (length > extent.committed_length || !boundary) {
    // Nothing changed: appends may go on (unless an earlier attempt already cut the file).
    if (extent.failure.ok() && !extent.frozen) extent.sealing = false;
    co_return Status::InvalidArgument(fmt::format("extent {:016x}: {} is not a committed record boundary "
                                                  "(committed length {})", id, length, extent.committed_length));
  }
  // From the truncation on, the extent is this long, whatever happens next: a failed sync or
  // seal file leaves it sealing (no appends) at `length`, and a retried Seal(length) finishes.
  CO_RETURN_IF_ERROR(co_await extent.file->Truncate(length));
  used_bytes_ -= extent.committed_length - length;
  extent.committed_length = extent.reserved_length = extent.allocated_length = length;
  std::erase_if(extent.record_ends, [&](uint64_t end) { return end > length; });
  CO_RETURN_IF_ERROR(co_await extent.file->DataSync());
  auto bytes = EncodeSideFile(kSealMagic, {length, 0});
  CO_RETURN_IF_ERROR(co_await WriteSmallFile(SealPath(id), bytes));
  extent.sealed = true;
  extent.record_ends.clear();
  extent.record_ends.shrink_to_fit();
  Status removed = env_.RemoveFile(HintPath(id));
  (void)removed;  // a sealed extent never reads its hint
  co_return Status::Ok();
}

Task<Status> ExtentStore::Delete(uint64_t id) {
  if (Find(id) == nullptr) co_return Status::NotFound(fmt::format("extent {:016x} not found", id));
  std::shared_ptr<Extent> extent = extents_.at(id);
  if (extent->busy) co_return Busy(extent->id);
  extent->busy = true;
  co_await StopAppends(*extent);
  used_bytes_ -= extent->committed_length;
  extents_.erase(id);
  for (const std::string& path : {SealPath(id), HintPath(id)}) {
    Status removed = env_.RemoveFile(path);
    if (!removed.ok() && removed.code() != StatusCode::kNotFound) co_return removed;
  }
  CO_RETURN_IF_ERROR(env_.RemoveFile(ExtentPath(id)));
  co_return co_await env_.SyncDirectory(directory_ + "/extents");
}

Result<ExtentInfo> ExtentStore::Info(uint64_t id) const {
  const Extent* extent = Find(id);
  if (extent == nullptr) return Status::NotFound(fmt::format("extent {:016x} not found", id));
  return ExtentInfo{.extent_id = id, .length = extent->committed_length, .next_offset = extent->reserved_length,
                    .sealed = extent->sealed, .durability = extent->durability,
                    .chain_version = extent->chain_version};
}

std::vector<ExtentInfo> ExtentStore::List() const {
  std::vector<ExtentInfo> infos;
  for (const auto& [id, extent] : extents_) infos.push_back(*Info(id));
  return infos;
}

DiskUsage ExtentStore::usage() const {
  return {.capacity_bytes = capacity_bytes_, .used_bytes = used_bytes_, .reserve_bytes = options_.reserve_bytes,
          .extent_count = extents_.size()};
}

Task<void> ExtentStore::Close() {
  closed_ = true;
  co_await committers_.Join();
}

}  // namespace cerulean::storage
