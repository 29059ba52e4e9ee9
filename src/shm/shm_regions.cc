#include "shm/shm_regions.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "shm/memfd_of.h"

namespace cerulean::shm {

ShmRegion::~ShmRegion() { munmap(base_, bytes_); }

Result<std::span<std::byte>> ShmRegion::At(uint64_t offset, uint64_t bytes) const {
  if (offset > bytes_ || bytes > bytes_ - offset) {
    return Status::OutOfRange(fmt::format("{} bytes at {} are outside the shared region of {} bytes", bytes, offset, bytes_));
  }
  return std::span<std::byte>(base_ + offset, bytes);
}

Status ShmRegions::Register(const RegisterRequest& request) {
  ReapExited();
  if (regions_.contains(request.region)) return Status::Ok();  // a retried registration
  if (regions_.size() >= kRegionsMax) {
    return Status::ResourceExhausted(fmt::format("this node has {} shared regions registered already", regions_.size()));
  }
  if (!request.name.starts_with(kRegionNamePrefix)) {
    return Status::InvalidArgument(fmt::format("a shared region's name starts with {}", kRegionNamePrefix));
  }
  ASSIGN_OR_RETURN(const int fd, OpenMemfdOf(request.pid, request.fd, request.name, request.bytes, /*writable=*/true));
  void* base = mmap(nullptr, request.bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);  // the mapping keeps the memory
  if (base == MAP_FAILED) {
    return Status::ResourceExhausted(fmt::format("cannot map shared region {}: {}", request.name, std::strerror(errno)));
  }
  regions_[request.region] = std::make_shared<ShmRegion>(static_cast<std::byte*>(base), request.bytes, request.pid);
  return Status::Ok();
}

void ShmRegions::Unregister(uint64_t region) { regions_.erase(region); }

Result<std::shared_ptr<ShmRegion>> ShmRegions::Find(uint64_t region) const {
  auto found = regions_.find(region);
  if (found == regions_.end()) return Status::NotFound(fmt::format("shared region {:#x} is not registered here", region));
  return found->second;
}

void ShmRegions::ReapExited() {
  std::erase_if(regions_, [](const auto& entry) {
    return kill(static_cast<pid_t>(entry.second->pid()), 0) != 0 && errno == ESRCH;
  });
}

}  // namespace cerulean::shm
