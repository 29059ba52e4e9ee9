// ShmRegions: the shared-memory regions same-host clients registered with this node
// (docs/protocols/shared_memory.md). A client makes a memfd, maps it, and
// names it here by (pid, fd, name); the node opens /proc/<pid>/fd/<fd>, checks that the link is
// that very memfd (a process on another host with the same pid has no such file), and maps it
// too. The KV cache then copies values into and out of it, and object reads land in it straight
// from the disk: no socket carries the bytes. Regions of processes that have exited are unmapped at the next registration.
// Single-threaded (the node's shard).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>

#include "base/result.h"
#include "shm/shm_messages.h"

namespace cerulean::shm {

// Every client region's memfd name starts so; the rest is its id in hex.
inline constexpr std::string_view kRegionNamePrefix = "cerulean-shm-";

class ShmRegion {
 public:
  ShmRegion(std::byte* base, uint64_t bytes, uint32_t pid) : base_(base), bytes_(bytes), pid_(pid) {}
  ~ShmRegion();
  ShmRegion(const ShmRegion&) = delete;
  ShmRegion& operator=(const ShmRegion&) = delete;

  // `bytes` at `offset`, or OutOfRange if that is not inside the region.
  Result<std::span<std::byte>> At(uint64_t offset, uint64_t bytes) const;
  uint32_t pid() const { return pid_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::byte* base_;
  uint64_t bytes_;
  uint32_t pid_;
};

class ShmRegions {
 public:
  // Regions at most, per node.
  static constexpr size_t kRegionsMax = 1024;

  // FailedPrecondition when the region cannot be reached from here (another host, another
  // pid namespace, or not that memfd): the client then stays on TCP.
  Status Register(const RegisterRequest& request);
  void Unregister(uint64_t region);
  // The region, kept alive while a request uses it; NotFound if it is not registered.
  Result<std::shared_ptr<ShmRegion>> Find(uint64_t region) const;
  size_t size() const { return regions_.size(); }

 private:
  void ReapExited();

  std::unordered_map<uint64_t, std::shared_ptr<ShmRegion>> regions_;
};

}  // namespace cerulean::shm
