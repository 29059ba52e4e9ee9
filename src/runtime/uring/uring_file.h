// UringFile: a file read and written through io_uring, optionally with O_DIRECT. Loop thread only.
#pragma once

#include "runtime/env.h"
#include "runtime/uring/event_loop.h"

namespace cerulean {

class UringFile final : public File {
 public:
  UringFile(EventLoop& loop, int fd, std::string path);
  ~UringFile() override;

  Task<Result<size_t>> Read(uint64_t offset, std::span<std::byte> buffer) override;
  Task<Status> Write(uint64_t offset, std::span<const iovec> data) override;
  Task<Status> WriteDurable(uint64_t offset, std::span<const iovec> data) override;
  Task<Status> DataSync() override;
  Task<Status> Allocate(uint64_t offset, uint64_t length, AllocateMode mode) override;
  Task<Status> Truncate(uint64_t length) override;
  Result<uint64_t> Size() override;
  const std::string& path() const override { return path_; }

 private:
  // Write and WriteDurable: a gathered write with `rw_flags` (RWF_*), resumed after short writes.
  Task<Status> WriteWithFlags(uint64_t offset, std::span<const iovec> data, int rw_flags);

  EventLoop& loop_;
  int fd_;
  std::string path_;
};

}  // namespace cerulean
