#include "shm/shared_region.h"

#include "shm/shm_regions.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace cerulean::shm {

Result<std::unique_ptr<SharedRegion>> SharedRegion::Create(uint64_t id, size_t bytes) {
  if (bytes == 0) return Status::InvalidArgument("a shared region of 0 bytes");
  // The name carries the id, so a node can tell this memfd from another process's fd number.
  std::string name = fmt::format("{}{:016x}", kRegionNamePrefix, id);
  const int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return Status::Internal(fmt::format("memfd_create: {}", std::strerror(errno)));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int error = errno;
    close(fd);
    return Status::ResourceExhausted(fmt::format("a shared region of {} bytes: {}", bytes, std::strerror(error)));
  }
  void* base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int error = errno;
    close(fd);
    return Status::ResourceExhausted(fmt::format("mapping a shared region of {} bytes: {}", bytes, std::strerror(error)));
  }
  return std::unique_ptr<SharedRegion>(new SharedRegion(id, fd, static_cast<std::byte*>(base), bytes, std::move(name)));
}

SharedRegion::~SharedRegion() {
  munmap(base_, size_);
  close(fd_);
}

std::optional<uint64_t> SharedRegion::OffsetOf(std::span<const std::byte> span) const {
  const auto start = reinterpret_cast<uintptr_t>(span.data());
  const auto base = reinterpret_cast<uintptr_t>(base_);
  if (start < base || start - base > size_ || span.size() > size_ - (start - base)) return std::nullopt;
  return start - base;
}

RegisterRequest SharedRegion::Registration() const {
  return {.region = id_, .pid = static_cast<uint32_t>(getpid()), .fd = fd_, .bytes = size_, .name = name_};
}

}  // namespace cerulean::shm
