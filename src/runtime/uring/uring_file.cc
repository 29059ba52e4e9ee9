#include "runtime/uring/uring_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

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
  std::vector<iovec> remaining(data.begin(), data.end());
  std::span<iovec> pending(remaining);
  while (!pending.empty()) {
    const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
      io_uring_prep_writev(sqe, fd_, pending.data(), std::min<size_t>(pending.size(), IOV_MAX), offset);
    });
    if (result < 0) co_return Status::FromErrno(-result, "write " + path_);
    if (result == 0) co_return Status::Internal("write of 0 bytes to " + path_);
    size_t written = static_cast<size_t>(result);
    offset += written;
    while (!pending.empty() && written >= pending.front().iov_len) {
      written -= pending.front().iov_len;
      pending = pending.subspan(1);
    }
    if (written > 0) {
      pending.front().iov_base = static_cast<std::byte*>(pending.front().iov_base) + written;
      pending.front().iov_len -= written;
    }
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

Task<Status> UringFile::Allocate(uint64_t offset, uint64_t length) {
  const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
    io_uring_prep_fallocate(sqe, fd_, FALLOC_FL_KEEP_SIZE, offset, length);
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
