#include "shm/node_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "shm/memfd_of.h"

namespace cerulean::shm {

Result<std::unique_ptr<NodeMemory>> NodeMemory::Map(const RegisterResponse& offered, std::string_view name_prefix) {
  if (!offered.name.starts_with(name_prefix)) {
    return Status::InvalidArgument(fmt::format("node memory {} is not named {}...", offered.name, name_prefix));
  }
  ASSIGN_OR_RETURN(const int fd, OpenMemfdOf(offered.pid, offered.fd, offered.name, offered.bytes, /*writable=*/false));
  // Not populated: that takes 0.1-0.2 s a GiB, which would fall on the first transfer with the
  // node; each page is faulted in at its first read instead (once).
  void* base = mmap(nullptr, offered.bytes, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);  // the mapping keeps the memory
  if (base == MAP_FAILED) {
    return Status::ResourceExhausted(fmt::format("cannot map node memory {}: {}", offered.name, std::strerror(errno)));
  }
  return std::unique_ptr<NodeMemory>(new NodeMemory(static_cast<const std::byte*>(base), offered.bytes));
}

NodeMemory::~NodeMemory() { munmap(const_cast<std::byte*>(base_), size_); }

}  // namespace cerulean::shm
