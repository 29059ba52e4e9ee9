// SimEnv: one simulated node's Env. Time, timers, scheduling and randomness come from the shared
// SimWorld; the network and the files go to the world's SimNetwork and this node's SimDisk.
// Owned by the SimWorld; single-threaded like it.
#pragma once

#include <string>

#include "runtime/env.h"

namespace cerulean {

class SimWorld;

class SimEnv final : public Env {
 public:
  SimEnv(SimWorld& world, std::string host);

  const std::string& host() const { return host_; }
  SimWorld& world() { return world_; }

  void Schedule(std::coroutine_handle<> handle) override;
  TimePoint Now() override;
  void ArmTimer(Timer& timer) override;
  void DisarmTimer(Timer& timer) override;
  uint64_t Random() override;

  Result<std::unique_ptr<Listener>> Listen(const NetAddress& address) override;
  Task<Result<std::unique_ptr<Stream>>> Connect(NetAddress address, CancelToken cancel) override;

  Task<Result<std::unique_ptr<File>>> OpenFile(std::string path, FileOptions options) override;
  Status CreateDirectories(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Task<Status> RenameFile(std::string from, std::string to) override;
  Result<std::vector<std::string>> ListDirectory(const std::string& path) override;
  Result<DiskSpace> GetDiskSpace(const std::string& path) override;
  DeviceWriteLimits GetDeviceWriteLimits(const std::string& path) override;
  // Directory entries are durable at once in the simulated disk, so there is nothing to do.
  Task<Status> SyncDirectory(std::string path) override;
  Task<void> RunBlocking(std::function<void()> work) override;

 private:
  SimWorld& world_;
  const std::string host_;
};

}  // namespace cerulean
