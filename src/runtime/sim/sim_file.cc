#include "runtime/sim/sim_file.h"

#include <fmt/format.h>

#include <cstring>

#include "runtime/sim/sim_disk.h"
#include "runtime/sim/sim_inode.h"

namespace cerulean {

SimFile::SimFile(SimDisk& disk, std::shared_ptr<SimInode> inode, std::string path,
                 FileOptions options)
    : disk_(disk), inode_(std::move(inode)), path_(std::move(path)), options_(options),
      generation_(disk.generation()) {}

Status SimFile::CheckDirect(std::string_view operation, uint64_t offset, uint64_t length,
                            const void* address) const {
  constexpr uint64_t kAlignment = SimDisk::kDirectAlignmentBytes;
  const auto address_bits = reinterpret_cast<uintptr_t>(address);
  if (offset % kAlignment == 0 && length % kAlignment == 0 && address_bits % kAlignment == 0) {
    return Status::Ok();
  }
  return Status::InvalidArgument(
      fmt::format("O_DIRECT {} of {} at offset {} length {} buffer {:#x}: not {}-byte aligned",
                  operation, path_, offset, length, address_bits, kAlignment));
}

Status SimFile::CheckAlive() const {
  if (disk_.generation() != generation_) {
    return Status::Unavailable(fmt::format("{}: the process that opened it died in a crash", path_));
  }
  return Status::Ok();
}

Status SimFile::CheckWritable() const {
  if (!options_.read_only) return Status::Ok();
  return Status::PermissionDenied(fmt::format("{} is open read-only", path_));
}

Task<Result<size_t>> SimFile::Read(uint64_t offset, std::span<std::byte> buffer) {
  if (options_.direct) {
    CO_RETURN_IF_ERROR(CheckDirect("read", offset, buffer.size(), buffer.data()));
  }
  Status waited = co_await disk_.Latency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(CheckAlive());
  CO_RETURN_IF_ERROR(disk_.InjectFailure("read", path_));
  const std::string& live = inode_->live();
  if (offset >= live.size()) co_return size_t{0};
  const size_t read_bytes = std::min<uint64_t>(buffer.size(), live.size() - offset);
  std::memcpy(buffer.data(), live.data() + offset, read_bytes);
  disk_.MaybeFlipReadBit(buffer.first(read_bytes), path_, offset);
  co_return read_bytes;
}

Task<Status> SimFile::Write(uint64_t offset, std::span<const iovec> data) {
  auto written = co_await WriteChange(offset, data);
  if (!written.ok()) co_return written.status();
  co_return Status::Ok();
}

Task<Status> SimFile::WriteDurable(uint64_t offset, std::span<const iovec> data) {
  // Written first, then made durable: a crash in between may tear it like any other write.
  auto written = co_await WriteChange(offset, data);
  if (!written.ok()) co_return written.status();
  Status waited = co_await disk_.SyncLatency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(CheckAlive());
  CO_RETURN_IF_ERROR(disk_.InjectFailure("sync", path_));
  inode_->SyncWrite(*written);
  disk_.Trace(fmt::format("write durable {} offset {}", path_, offset));
  co_return Status::Ok();
}

Task<Result<uint64_t>> SimFile::WriteChange(uint64_t offset, std::span<const iovec> data) {
  CO_RETURN_IF_ERROR(CheckWritable());
  uint64_t length = 0;
  for (const iovec& piece : data) {
    if (options_.direct) {
      CO_RETURN_IF_ERROR(CheckDirect("write", offset + length, piece.iov_len, piece.iov_base));
    }
    length += piece.iov_len;
  }
  Status waited = co_await disk_.Latency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(CheckAlive());
  CO_RETURN_IF_ERROR(disk_.InjectFailure("write", path_));
  CO_RETURN_IF_ERROR(
      disk_.Reserve(*inode_, std::max(inode_->stored_bytes(), offset + length), path_));
  std::string bytes;
  bytes.reserve(length);
  for (const iovec& piece : data)
    bytes.append(static_cast<const char*>(piece.iov_base), piece.iov_len);
  const uint64_t change_id = inode_->Write(offset, std::move(bytes));
  disk_.Trace(fmt::format("write {} offset {} length {}", path_, offset, length));
  co_return change_id;
}

Task<Status> SimFile::DataSync() {
  Status waited = co_await disk_.SyncLatency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(CheckAlive());
  CO_RETURN_IF_ERROR(disk_.InjectFailure("sync", path_));
  disk_.Trace(fmt::format("sync {} ({} changes)", path_, inode_->unsynced().size()));
  inode_->Sync();
  co_return Status::Ok();
}

Task<Status> SimFile::Allocate(uint64_t offset, uint64_t length, AllocateMode mode) {
  CO_RETURN_IF_ERROR(CheckWritable());
  Status waited = co_await disk_.Latency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(CheckAlive());
  CO_RETURN_IF_ERROR(disk_.InjectFailure("allocate", path_));
  const uint64_t end = offset + length;
  CO_RETURN_IF_ERROR(disk_.Reserve(*inode_, std::max(inode_->stored_bytes(), end), path_));
  // Growing the size is metadata, durable only once synced, like any size change.
  if (mode == AllocateMode::kExtendSize && inode_->live().size() < end) inode_->Truncate(end);
  inode_->set_allocated_bytes(std::max(inode_->allocated_bytes(), end));
  disk_.Trace(fmt::format("allocate {} offset {} length {}", path_, offset, length));
  co_return Status::Ok();
}

Task<Status> SimFile::Truncate(uint64_t length) {
  CO_RETURN_IF_ERROR(CheckWritable());
  Status waited = co_await disk_.Latency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(CheckAlive());
  CO_RETURN_IF_ERROR(disk_.InjectFailure("truncate", path_));
  CO_RETURN_IF_ERROR(disk_.Reserve(*inode_, length, path_));
  inode_->Truncate(length);
  disk_.Trace(fmt::format("truncate {} to {}", path_, length));
  co_return Status::Ok();
}

Result<uint64_t> SimFile::Size() {
  RETURN_IF_ERROR(CheckAlive());
  return uint64_t{inode_->live().size()};
}

}  // namespace cerulean
