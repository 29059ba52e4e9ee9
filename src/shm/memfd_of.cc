#include "shm/memfd_of.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace cerulean::shm {

Result<int> OpenMemfdOf(uint32_t pid, int32_t fd, std::string_view name, uint64_t bytes, bool writable) {
  if (pid == 0 || fd < 0 || bytes == 0) return Status::InvalidArgument("shared memory needs a pid, a memfd and a size");
  const std::string path = fmt::format("/proc/{}/fd/{}", pid, fd);
  char link[512];
  const ssize_t length = readlink(path.c_str(), link, sizeof(link) - 1);
  const std::string expected = fmt::format("/memfd:{} (deleted)", name);
  if (length < 0 || std::string_view(link, static_cast<size_t>(length)) != expected) {
    return Status::FailedPrecondition(fmt::format("shared memory {} is not reachable from here ({})", name,
                                                  length < 0 ? std::strerror(errno) : "another file"));
  }
  const int opened = open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (opened < 0) {
    return Status::FailedPrecondition(fmt::format("cannot open shared memory {}: {}", name, std::strerror(errno)));
  }
  struct stat info {};
  if (fstat(opened, &info) != 0 || static_cast<uint64_t>(info.st_size) < bytes) {
    close(opened);
    return Status::InvalidArgument(fmt::format("shared memory {} is smaller than the {} bytes named", name, bytes));
  }
  return opened;
}

}  // namespace cerulean::shm
