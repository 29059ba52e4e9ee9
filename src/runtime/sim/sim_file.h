// SimFile: an open file of a SimDisk, the File that SimEnv::OpenFile returns. Each operation takes
// a random virtual latency and may fail by the disk's fault options. Single-threaded; must not be
// destroyed while an operation on it is outstanding.
#pragma once

#include <memory>
#include <string>

#include "runtime/env.h"

namespace cerulean {

class SimDisk;
class SimInode;

class SimFile final : public File {
 public:
  SimFile(SimDisk& disk, std::shared_ptr<SimInode> inode, std::string path, FileOptions options);

  Task<Result<size_t>> Read(uint64_t offset, std::span<std::byte> buffer) override;
  Task<Status> Write(uint64_t offset, std::span<const iovec> data) override;
  Task<Status> WriteDurable(uint64_t offset, std::span<const iovec> data) override;
  Task<Status> DataSync() override;
  Task<Status> Allocate(uint64_t offset, uint64_t length, AllocateMode mode) override;
  Task<Status> Truncate(uint64_t length) override;
  Result<uint64_t> Size() override;
  const std::string& path() const override { return path_; }

 private:
  // Write's body: the id of the logged change, for WriteDurable to sync.
  Task<Result<uint64_t>> WriteChange(uint64_t offset, std::span<const iovec> data);
  // InvalidArgument unless `offset`, `length` and `address` suit O_DIRECT.
  Status CheckDirect(std::string_view operation, uint64_t offset, uint64_t length,
                     const void* address) const;
  Status CheckWritable() const;
  // Unavailable once the disk has crashed since this file was opened.
  Status CheckAlive() const;

  SimDisk& disk_;
  std::shared_ptr<SimInode> inode_;
  const std::string path_;
  const FileOptions options_;
  uint64_t generation_ = 0;
};

}  // namespace cerulean
