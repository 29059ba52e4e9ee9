// UringEnv: the production Env of one shard: io_uring sockets and files, the loop's timers,
// a monotonic clock and a PRNG seeded from the kernel. Owned by its shard; loop thread only.
#pragma once

#include <random>

#include "runtime/env.h"
#include "runtime/uring/event_loop.h"

namespace cerulean {

class UringEnv final : public Env {
 public:
  explicit UringEnv(EventLoop& loop);
  ~UringEnv() override;

  EventLoop& loop() { return loop_; }

  void Schedule(std::coroutine_handle<> handle) override { loop_.Schedule(handle); }
  TimePoint Now() override { return loop_.Now(); }
  void ArmTimer(Timer& timer) override { loop_.ArmTimer(timer); }
  void DisarmTimer(Timer& timer) override { loop_.DisarmTimer(timer); }
  uint64_t Random() override { return random_(); }

  Result<std::unique_ptr<Listener>> Listen(const NetAddress& address) override;
  Task<Result<std::unique_ptr<Stream>>> Connect(NetAddress address, CancelToken cancel) override;

  Task<Result<std::unique_ptr<File>>> OpenFile(std::string path, FileOptions options) override;
  Status CreateDirectories(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Task<Status> RenameFile(std::string from, std::string to) override;
  Result<std::vector<std::string>> ListDirectory(const std::string& path) override;
  Result<DiskSpace> GetDiskSpace(const std::string& path) override;
  DeviceWriteLimits GetDeviceWriteLimits(const std::string& path) override;
  Task<Status> SyncDirectory(std::string path) override;
  Task<void> RunBlocking(std::function<void()> work) override;

 private:
  EventLoop& loop_;
  std::mt19937_64 random_;
  size_t blocking_outstanding_ = 0;
};

}  // namespace cerulean
