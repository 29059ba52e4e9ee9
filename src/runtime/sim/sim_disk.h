// SimDisk: one simulated node's disk, an in-memory filesystem whose files remember what is
// durable and what is not, with faults drawn from the world's seed: power loss that keeps, loses
// or tears each unsynced write, bit flips, a capacity limit, injected I/O errors and O_DIRECT
// alignment rules. Metadata (create, rename, remove, mkdir) is durable at once. Owned by the
// SimWorld; single-threaded; files it opens must be closed before the world ends.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/env.h"
#include "runtime/sim/sim_waiter.h"

namespace cerulean {

class SimInode;
class SimWorld;

struct SimDiskOptions {
  // Virtual time each file operation takes, drawn uniformly; DataSync draws from its own range.
  Duration latency_min = std::chrono::microseconds(5);
  Duration latency_max = std::chrono::microseconds(100);
  Duration sync_latency_min = std::chrono::microseconds(50);
  Duration sync_latency_max = std::chrono::milliseconds(2);
  // Per file operation: it fails with DataLoss("injected I/O error"), what EIO maps to.
  double failure_probability = 0;
  // Per read returning bytes: one random bit of them is flipped on the way.
  double bit_flip_probability = 0;
  // Writes, allocations and truncations that would store more fail with ResourceExhausted.
  uint64_t capacity_bytes = UINT64_MAX;
};

class SimDisk {
 public:
  // Power loss tears writes at sector boundaries: a torn write persists a prefix of its sectors.
  static constexpr uint64_t kSectorBytes = 512;
  // FileOptions.direct requires offsets, lengths and buffer addresses aligned to this.
  static constexpr uint64_t kDirectAlignmentBytes = 4096;

  SimDisk(SimWorld& world, std::string host);
  ~SimDisk();
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  const SimDiskOptions& options() const { return options_; }
  void set_options(const SimDiskOptions& options);
  void set_capacity_bytes(uint64_t bytes);
  void set_failure_probability(double probability);
  void set_bit_flip_probability(double probability);
  // Bytes the files occupy, as capacity counts them.
  uint64_t used_bytes() const;

  // --- faults
  // Power loss: every unsynced change is independently kept, lost or (a write spanning sectors)
  // torn, then the live images become the durable ones. Open files see the result; a test
  // normally destroys them first, as a crashed process would.
  // Power loss, and the death of the process using the disk: every unsynced write is kept,
  // lost or torn, and files opened before the crash fail every later operation with
  // Unavailable, as a killed process's would never complete. Reopen them to recover.
  void Crash();
  // Counts crashes: a file remembers the generation it was opened in.
  uint64_t generation() const { return generation_; }
  // Corrupts one stored bit of a file (bit 0-7 of the byte at byte_offset).
  Status FlipBit(const std::string& path, uint64_t byte_offset, int bit);

  // --- the Env side (see Env in env.h)
  Task<Result<std::unique_ptr<File>>> OpenFile(std::string path, FileOptions options);
  Status CreateDirectories(const std::string& path);
  Status RemoveFile(const std::string& path);
  Status RenameFile(const std::string& from, const std::string& to);
  Result<std::vector<std::string>> ListDirectory(const std::string& path);

  // --- used by SimFile
  SimWaiter Latency();
  SimWaiter SyncLatency();
  // DataLoss at options().failure_probability, else Ok.
  Status InjectFailure(std::string_view operation, std::string_view path);
  // ResourceExhausted if `inode` growing to `stored_bytes` would pass the capacity.
  Status Reserve(const SimInode& inode, uint64_t stored_bytes, std::string_view path) const;
  // At options().bit_flip_probability, flips a bit of bytes just read from `offset`.
  void MaybeFlipReadBit(std::span<std::byte> bytes, std::string_view path, uint64_t offset);
  void Trace(std::string_view event);

 private:
  bool IsDirectory(std::string_view path) const;
  bool HasChildren(const std::string& directory) const;
  void PersistAfterPowerLoss(const std::string& path, SimInode& inode, size_t change_index);

  SimWorld& world_;
  uint64_t generation_ = 0;
  const std::string host_;
  SimDiskOptions options_;
  std::map<std::string, std::shared_ptr<SimInode>, std::less<>> files_;
  std::set<std::string, std::less<>> directories_;
};

}  // namespace cerulean
