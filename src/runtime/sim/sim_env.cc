#include "runtime/sim/sim_env.h"

#include "runtime/sim/sim_disk.h"
#include "runtime/sim/sim_network.h"
#include "runtime/sim/sim_world.h"

namespace cerulean {

SimEnv::SimEnv(SimWorld& world, std::string host) : world_(world), host_(std::move(host)) {}

void SimEnv::Schedule(std::coroutine_handle<> handle) { world_.Schedule(handle); }
TimePoint SimEnv::Now() { return world_.Now(); }
void SimEnv::ArmTimer(Timer& timer) { world_.ArmTimer(timer); }
void SimEnv::DisarmTimer(Timer& timer) { world_.DisarmTimer(timer); }
uint64_t SimEnv::Random() { return world_.Random(); }

Result<std::unique_ptr<Listener>> SimEnv::Listen(const NetAddress& address) {
  return world_.network().Listen(host_, address);
}

Task<Result<std::unique_ptr<Stream>>> SimEnv::Connect(NetAddress address, CancelToken cancel) {
  return world_.network().Connect(host_, std::move(address), cancel);
}

Task<Result<std::unique_ptr<File>>> SimEnv::OpenFile(std::string path, FileOptions options) {
  return world_.disk(host_).OpenFile(std::move(path), options);
}

Status SimEnv::CreateDirectories(const std::string& path) {
  return world_.disk(host_).CreateDirectories(path);
}

Status SimEnv::RemoveFile(const std::string& path) { return world_.disk(host_).RemoveFile(path); }

Task<Status> SimEnv::RenameFile(std::string from, std::string to) {
  co_return world_.disk(host_).RenameFile(from, to);
}

Task<Status> SimEnv::SyncDirectory(std::string path) {
  (void)path;
  co_return Status::Ok();
}

Task<void> SimEnv::RunBlocking(std::function<void()> work) {
  work();  // one thread: the work simply takes no virtual time
  co_return;
}

Result<DiskSpace> SimEnv::GetDiskSpace(const std::string& path) {
  (void)path;  // one disk per simulated node
  const SimDisk& disk = world_.disk(host_);
  const uint64_t total = disk.options().capacity_bytes;
  return DiskSpace{.total_bytes = total, .available_bytes = total - std::min(total, disk.used_bytes())};
}

DeviceWriteLimits SimEnv::GetDeviceWriteLimits(const std::string& path) {
  (void)path;
  // Small, so that simulated batches are cut into several writes, which a crash may tear apart.
  return {.request_bytes_max = 64 << 10, .segments_max = 8};
}

Result<std::vector<std::string>> SimEnv::ListDirectory(const std::string& path) {
  return world_.disk(host_).ListDirectory(path);
}

}  // namespace cerulean
