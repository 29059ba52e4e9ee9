// Helpers for scatter-gather lists (iovec arrays) that are consumed as bytes go out.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <span>

namespace cerulean {

// Drops the first `bytes` bytes from the front of `buffers`, trimming a partly consumed entry.
inline void ConsumeIovecs(std::span<iovec>& buffers, size_t bytes) {
  while (!buffers.empty() && bytes >= buffers.front().iov_len) {
    bytes -= buffers.front().iov_len;
    buffers = buffers.subspan(1);
  }
  if (bytes > 0) {
    buffers.front().iov_base = static_cast<std::byte*>(buffers.front().iov_base) + bytes;
    buffers.front().iov_len -= bytes;
  }
}

}  // namespace cerulean
