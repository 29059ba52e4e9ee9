// Opening another process's memfd on this host: /proc/<pid>/fd/<fd>, only if that link names the
// very memfd expected ("/memfd:<name> (deleted)"). A process on another host, in another pid
// namespace, or run by a user who may not open the other's files, cannot: FailedPrecondition.
// How a node maps a client's shared region, and a client a node's read cache.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace cerulean::shm {

// An open file descriptor (the caller closes it) of at least `bytes` bytes.
Result<int> OpenMemfdOf(uint32_t pid, int32_t fd, std::string_view name, uint64_t bytes, bool writable);

}  // namespace cerulean::shm
