#include "runtime/uring/uring_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <vector>

#include "runtime/iovec.h"
#include "runtime/uring/uring_op.h"

namespace cerulean {

UringFile::UringFile(EventLoop& loop, int fd, std::string path)
    : loop_(loop), fd_(fd), path_(std::move(path)) {}

UringFile::~UringFile() { close(fd_); }

Task<Result<size_t>> UringFile::Read(uint64_t offset, std::span<std::byte> buffer) {
  size_t done = 0;
  while (done < buffer.size()) {
    const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
      io_uring_prep_read(sqe, fd_, buffer.data() + done, buffer.size() - done, offset + done);
    });
    if (result < 0) co_return Status::FromErrno(-result, "read " + path_);
    if (result == 0) break;  // end of file
    done += static_cast<size_t>(result);
  }
  co_return done;
}

Task<Status> UringFile::Write(uint64_t offset, std::span<const iovec> data) {
  return WriteWithFlags(offset, data, 0);
}

Task<Status> UringFile::WriteDurable(uint64_t offset, std::span<const iovec> data) {
  return WriteWithFlags(offset, data, RWF_DSYNC);
}

Task<Status> UringFile::WriteWithFlags(uint64_t offset, std::span<const iovec> data, int rw_flags) {
  // The kernel's progress consumes a copy of the list; small lists (the common case: a record
  // header and its payload) are copied into the coroutine frame, not the heap.
  constexpr size_t kInlineIovecs = 8;
  std::array<iovec, kInlineIovecs> inline_copy;
  std::vector<iovec> heap_copy;
  std::span<iovec> pending;
  if (data.size() <= kInlineIovecs) {
    std::copy(data.begin(), data.end(), inline_copy.begin());
    pending = std::span<iovec>(inline_copy.data(), data.size());
  } else {
    heap_copy.assign(data.begin(), data.end());
    pending = heap_copy;
  }
  while (!pending.empty()) {
    const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
      io_uring_prep_writev2(sqe, fd_, pending.data(), std::min<size_t>(pending.size(), IOV_MAX), offset, rw_flags);
    });
    if (result < 0) co_return Status::FromErrno(-result, "write " + path_);
    if (result == 0) co_return Status::Internal("write of 0 bytes to " + path_);
    offset += static_cast<uint64_t>(result);
    ConsumeIovecs(pending, static_cast<size_t>(result));
  }
  co_return Status::Ok();
}

Task<Status> UringFile::DataSync() {
  const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
    io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
  });
  if (result < 0) co_return Status::FromErrno(-result, "fdatasync " + path_);
  co_return Status::Ok();
}

Task<Status> UringFile::Allocate(uint64_t offset, uint64_t length, AllocateMode mode) {
  const int fallocate_mode = mode == AllocateMode::kKeepSize ? FALLOC_FL_KEEP_SIZE : 0;
  const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
    io_uring_prep_fallocate(sqe, fd_, fallocate_mode, offset, length);
  });
  if (result < 0) co_return Status::FromErrno(-result, "fallocate " + path_);
  co_return Status::Ok();
}

Task<Status> UringFile::Truncate(uint64_t length) {
  // io_uring has no ftruncate before Linux 6.9; truncation is rare (seal, recovery).
  if (ftruncate(fd_, static_cast<off_t>(length)) != 0) {
    co_return Status::FromErrno(errno, "ftruncate " + path_);
  }
  co_return Status::Ok();
}

Result<uint64_t> UringFile::Size() {
  struct stat info {};
  if (fstat(fd_, &info) != 0) return Status::FromErrno(errno, "fstat " + path_);
  return static_cast<uint64_t>(info.st_size);
}

}  // namespace cerulean
