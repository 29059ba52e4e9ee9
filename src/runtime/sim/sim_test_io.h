// Byte-level helpers for tests of Streams and Files: whole-buffer writes and reads to and from
// std::string. Header-only; single-threaded like the objects they drive.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>

#include "runtime/env.h"

namespace cerulean {

// Writes all of `bytes` in one Write call.
inline Task<Status> WriteString(Stream& stream, std::string bytes, CancelToken cancel = {}) {
  iovec buffer{bytes.data(), bytes.size()};
  co_return co_await stream.Write(std::span<iovec>(&buffer, 1), cancel);
}

// Reads exactly `length` bytes; fails with Unavailable on EOF before that.
inline Task<Result<std::string>> ReadExactly(Stream& stream, size_t length,
                                             CancelToken cancel = {}) {
  std::string bytes(length, '\0');
  size_t filled = 0;
  while (filled < length) {
    iovec buffer{bytes.data() + filled, length - filled};
    Result<size_t> read = co_await stream.Read(std::span<const iovec>(&buffer, 1), cancel);
    if (!read.ok()) co_return read.status();
    if (*read == 0) co_return Status::Unavailable("end of stream");
    filled += *read;
  }
  co_return bytes;
}

// Reads until the peer's end of stream.
inline Task<Result<std::string>> ReadToEnd(Stream& stream, CancelToken cancel = {}) {
  std::string bytes;
  char chunk[4096];
  while (true) {
    iovec buffer{chunk, sizeof(chunk)};
    Result<size_t> read = co_await stream.Read(std::span<const iovec>(&buffer, 1), cancel);
    if (!read.ok()) co_return read.status();
    if (*read == 0) co_return bytes;
    bytes.append(chunk, *read);
  }
}

inline Task<Status> WriteFileString(File& file, uint64_t offset, std::string bytes) {
  iovec buffer{bytes.data(), bytes.size()};
  co_return co_await file.Write(offset, std::span<const iovec>(&buffer, 1));
}

inline Task<Result<std::string>> ReadFileString(File& file, uint64_t offset, size_t length) {
  std::string bytes(length, '\0');
  Result<size_t> read =
      co_await file.Read(offset, std::as_writable_bytes(std::span<char>(bytes.data(), length)));
  if (!read.ok()) co_return read.status();
  bytes.resize(*read);
  co_return bytes;
}

}  // namespace cerulean
