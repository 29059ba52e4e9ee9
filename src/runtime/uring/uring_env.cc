#include "runtime/uring/uring_env.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "runtime/uring/block_device.h"
#include "runtime/uring/blocking_pool.h"
#include "runtime/uring/uring_file.h"
#include "runtime/uring/uring_op.h"
#include "runtime/uring/uring_socket.h"

namespace cerulean {
namespace {

constexpr int kListenBacklog = 1024;

uint64_t KernelSeed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed)) seed = 0x9E3779B97F4A7C15ull;
  return seed;
}

}  // namespace

UringEnv::UringEnv(EventLoop& loop) : loop_(loop), random_(KernelSeed()) {}

Result<std::unique_ptr<Listener>> UringEnv::Listen(const NetAddress& address) {
  socklen_t length = 0;
  ASSIGN_OR_RETURN(sockaddr_storage storage, ToSockaddr(address, &length));
  const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    const int error = errno;
    close(fd);
    return Status::FromErrno(error, "bind " + address.ToString());
  }
  if (listen(fd, kListenBacklog) != 0) {
    const int error = errno;
    close(fd);
    return Status::FromErrno(error, "listen " + address.ToString());
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  NetAddress actual = address;
  actual.port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<Listener>(new UringListener(loop_, fd, actual));
}

Task<Result<std::unique_ptr<Stream>>> UringEnv::Connect(NetAddress address, CancelToken cancel) {
  socklen_t length = 0;
  auto storage = ToSockaddr(address, &length);
  if (!storage.ok()) co_return storage.status();
  const int fd = socket(storage->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) co_return Status::FromErrno(errno, "socket");
  const int32_t result = co_await MakeUringOp(loop_, cancel, [&](io_uring_sqe* sqe) {
    io_uring_prep_connect(sqe, fd, reinterpret_cast<sockaddr*>(&*storage), length);
  });
  if (result < 0) {
    close(fd);
    if (cancel.cancelled()) co_return cancel.reason();
    co_return Status::FromErrno(-result, "connect to " + address.ToString());
  }
  ConfigureConnectedSocket(fd);
  co_return std::unique_ptr<Stream>(new UringStream(loop_, fd, address.ToString()));
}

Task<Result<std::unique_ptr<File>>> UringEnv::OpenFile(std::string path, FileOptions options) {
  int flags = O_CLOEXEC | (options.read_only ? O_RDONLY : O_RDWR);
  if (options.create) flags |= O_CREAT;
  if (options.truncate) flags |= O_TRUNC;
  if (options.direct) flags |= O_DIRECT;
  const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
    io_uring_prep_openat(sqe, AT_FDCWD, path.c_str(), flags, 0644);
  });
  if (result < 0) co_return Status::FromErrno(-result, "open " + path);
  co_return std::unique_ptr<File>(new UringFile(loop_, result, std::move(path)));
}

Status UringEnv::CreateDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return Status::FromErrno(error.value(), "create directories " + path);
  return Status::Ok();
}

Status UringEnv::RemoveFile(const std::string& path) {
  if (unlink(path.c_str()) != 0) return Status::FromErrno(errno, "remove " + path);
  return Status::Ok();
}

Task<Status> UringEnv::RenameFile(std::string from, std::string to) {
  const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) {
    io_uring_prep_renameat(sqe, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0);
  });
  if (result < 0) co_return Status::FromErrno(-result, "rename " + from + " to " + to);
  co_return Status::Ok();
}

Result<std::vector<std::string>> UringEnv::ListDirectory(const std::string& path) {
  std::error_code error;
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    names.push_back(entry.path().filename().string());
  }
  if (error) return Status::FromErrno(error.value(), "list " + path);
  std::sort(names.begin(), names.end());
  return names;
}

Task<Status> UringEnv::SyncDirectory(std::string path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) co_return Status::FromErrno(errno, "open directory " + path);
  const int32_t result = co_await MakeUringOp(loop_, {}, [&](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd, 0); });
  close(fd);
  if (result < 0) co_return Status::FromErrno(-result, "fsync directory " + path);
  co_return Status::Ok();
}

Result<DiskSpace> UringEnv::GetDiskSpace(const std::string& path) {
  struct statvfs info {};
  if (statvfs(path.c_str(), &info) != 0) return Status::FromErrno(errno, "statvfs " + path);
  return DiskSpace{.total_bytes = uint64_t{info.f_blocks} * info.f_frsize,
                   .available_bytes = uint64_t{info.f_bavail} * info.f_frsize};
}

DeviceWriteLimits UringEnv::GetDeviceWriteLimits(const std::string& path) {
  return ReadDeviceWriteLimits(path);
}

namespace {

// Suspends the caller, runs the work on the blocking pool, then posts the caller back to its
// loop. Lives in the caller's frame until it resumes; the helper thread touches it only before
// the post that hands it back.
struct BlockingWork : LoopMessage {
  EventLoop* loop = nullptr;
  std::function<void()>* work = nullptr;
  std::coroutine_handle<> caller;

  bool await_ready() const { return false; }
  void await_suspend(std::coroutine_handle<> handle) {
    caller = handle;
    run = [](LoopMessage* message) { static_cast<BlockingWork*>(message)->caller.resume(); };
    BlockingPool::Default().Submit([this] {
      (*work)();
      // A full inbox is rare and short-lived: the loop drains it every turn.
      while (!loop->Post(this)) std::this_thread::sleep_for(std::chrono::microseconds(20));
    });
  }
  void await_resume() const {}
};

}  // namespace

Task<void> UringEnv::RunBlocking(std::function<void()> work) {
  BlockingWork awaiter;
  awaiter.loop = &loop_;
  awaiter.work = &work;
  blocking_outstanding_++;
  co_await awaiter;
  blocking_outstanding_--;
}

UringEnv::~UringEnv() {
  // A helper thread still running would post to a loop that is gone.
  CHECK(blocking_outstanding_ == 0) << blocking_outstanding_ << " RunBlocking calls outlive the env; wait for them";
}

}  // namespace cerulean
