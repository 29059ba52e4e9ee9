// Env: the only door to time, timers, randomness, the network and the disk. Everything that
// needs one of them takes an Env& in its constructor, which is what lets the same code run on
// io_uring in production (UringEnv) and inside the deterministic simulator (SimEnv).
//
// An Env belongs to one event loop (one shard, or one simulated node): its methods, and the
// objects they return, are called from that loop's thread only.
#pragma once

#include <sys/uio.h>

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "runtime/cancellation.h"
#include "runtime/net_address.h"
#include "runtime/task.h"
#include "runtime/timer_queue.h"

namespace cerulean {

// A connected byte stream (TCP). Reads and writes may be outstanding at the same time (one of
// each); after an error or Shutdown() the stream is unusable.
class Stream {
 public:
  virtual ~Stream() = default;
  // Reads at least one byte into the buffers, in order (scatter). Returns 0 when the peer has
  // closed its side. Cancellation fails the read with the token's reason.
  virtual Task<Result<size_t>> Read(std::span<const iovec> buffers, CancelToken cancel) = 0;
  // Writes every byte of the buffers, in order (gather). The array is consumed: entries are
  // advanced as bytes go out. A failure or cancellation leaves the stream broken.
  virtual Task<Status> Write(std::span<iovec> buffers, CancelToken cancel) = 0;
  // Closes both directions; outstanding and later operations fail. Idempotent.
  virtual void Shutdown() = 0;
  virtual std::string peer() const = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual Task<Result<std::unique_ptr<Stream>>> Accept(CancelToken cancel) = 0;
  // The bound address, with the real port when port 0 was asked for.
  virtual NetAddress address() const = 0;
  // Stops listening; an outstanding Accept fails with Unavailable.
  virtual void Close() = 0;
};

struct FileOptions {
  bool create = false;     // create if missing
  bool truncate = false;   // empty it on open
  bool read_only = false;
  bool direct = false;     // O_DIRECT: offsets, lengths and buffers aligned to 4 KiB
};

// An open file. Operations on one file may overlap; writes to overlapping ranges are unordered.
class File {
 public:
  virtual ~File() = default;
  // Reads up to buffer.size() bytes at offset; fewer only at the end of the file.
  virtual Task<Result<size_t>> Read(uint64_t offset, std::span<std::byte> buffer) = 0;
  // Writes all of `data` at offset, or fails.
  virtual Task<Status> Write(uint64_t offset, std::span<const iovec> data) = 0;
  // Writes all of `data` at offset and returns once it, and what is needed to read it back
  // (the file size, the allocation), is on stable storage (RWF_DSYNC). Unlike DataSync it makes
  // no other write durable, so several can be in flight at once.
  virtual Task<Status> WriteDurable(uint64_t offset, std::span<const iovec> data) = 0;
  // Makes every completed write durable (fdatasync).
  virtual Task<Status> DataSync() = 0;
  // Reserves space (fallocate). kExtendSize also grows the file to offset + length: direct
  // writes inside the size run in parallel, where writes past it are serialised by the kernel.
  enum class AllocateMode { kKeepSize, kExtendSize };
  virtual Task<Status> Allocate(uint64_t offset, uint64_t length, AllocateMode mode) = 0;
  virtual Task<Status> Truncate(uint64_t length) = 0;
  virtual Result<uint64_t> Size() = 0;
  virtual const std::string& path() const = 0;
};

// Space on the file system that holds a path.
struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};

// The largest write the block device under a path takes as one request. A direct write over
// either limit is split by the block layer, and a split request cannot be issued without
// blocking: io_uring then hands it to a worker thread, which serialises the file's writes.
struct DeviceWriteLimits {
  uint64_t request_bytes_max = 4ull << 20;  // /sys/block/<dev>/queue/max_sectors_kb
  size_t segments_max = 1024;               // queue/max_segments (physically contiguous runs)
};

class Env {
 public:
  virtual ~Env() = default;

  // --- execution: resume `handle` soon, on this env's loop, never inline.
  virtual void Schedule(std::coroutine_handle<> handle) = 0;

  // --- time
  virtual TimePoint Now() = 0;
  // Calls timer.fire(&timer) from the loop once Now() >= timer.deadline. The timer must stay
  // alive until it fires or is disarmed.
  virtual void ArmTimer(Timer& timer) = 0;
  virtual void DisarmTimer(Timer& timer) = 0;

  // --- randomness (seeded, and so replayable, in simulation)
  virtual uint64_t Random() = 0;

  // --- network
  virtual Result<std::unique_ptr<Listener>> Listen(const NetAddress& address) = 0;
  virtual Task<Result<std::unique_ptr<Stream>>> Connect(NetAddress address, CancelToken cancel) = 0;

  // --- files and directories
  virtual Task<Result<std::unique_ptr<File>>> OpenFile(std::string path, FileOptions options) = 0;
  virtual Status CreateDirectories(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Asynchronous: on ext4 a rename may wait for the journal, which a loop must not.
  virtual Task<Status> RenameFile(std::string from, std::string to) = 0;
  virtual Result<std::vector<std::string>> ListDirectory(const std::string& path) = 0;
  virtual Result<DiskSpace> GetDiskSpace(const std::string& path) = 0;
  // The defaults when the path is on no block device (tmpfs) or the limits cannot be read.
  virtual DeviceWriteLimits GetDeviceWriteLimits(const std::string& path) = 0;
  // Makes the directory's entries (files created, renamed, removed in it) durable.
  virtual Task<Status> SyncDirectory(std::string path) = 0;

  // --- blocking work
  // Runs `work` where it may block (a helper thread) and resumes the caller on this loop once it
  // has returned: for libraries with no asynchronous interface (RocksDB's synced writes). `work`
  // must not touch the loop's state. The simulation runs it inline.
  virtual Task<void> RunBlocking(std::function<void()> work) = 0;
};

}  // namespace cerulean
