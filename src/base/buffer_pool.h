// PooledBuffer: a 4 KiB-aligned buffer whose memory is recycled through a per-thread cache of
// power-of-two size classes. Payloads of rpc frames and disk records land in these, so that the
// steady state of a data path neither calls malloc nor page-faults fresh memory. Move-only; the
// cache is thread-local, so a buffer may be freed on any thread.
//
// Buffers of 1 MiB and more are mapped on 2 MiB boundaries with transparent huge pages asked
// for, so that they are physically contiguous: an O_DIRECT write of a 1 MiB record from 4 KiB
// pages is 257 segments, over what a virtio disk takes in one request (254), and a request the
// block layer must split cannot be issued without blocking, so io_uring hands it to a worker
// thread that serialises the file's writes. (docs/formats/extent.md, "Writes the disk takes whole")
#pragma once

#include <cstddef>
#include <span>
#include <utility>

#include "base/huge_pages.h"

namespace cerulean {

class PooledBuffer {
 public:
  static constexpr size_t kAlignmentBytes = 4096;
  static constexpr size_t kClassBytesMin = 4096;
  static constexpr size_t kClassBytesMax = 64ull << 20;  // larger buffers are not cached
  static constexpr size_t kCachedBytesPerClassMax = 64ull << 20;
  static constexpr size_t kMappedBytesMin = 1ull << 20;  // from here on: huge-page mappings

  PooledBuffer() = default;
  // A buffer of `size` bytes (contents unspecified).
  static PooledBuffer Allocate(size_t size);
  ~PooledBuffer() { Release(); }
  PooledBuffer(PooledBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  PooledBuffer& operator=(PooledBuffer&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  // Usable bytes (>= size, a multiple of 4 KiB): room to pad in place for O_DIRECT.
  size_t capacity() const { return capacity_; }
  // How far the memory may run physically contiguous: a huge page for mapped buffers (when the
  // kernel grants one), a page otherwise. What the block layer counts segments by.
  size_t contiguous_run_bytes() const { return capacity_ >= kMappedBytesMin ? kHugePageBytes : kAlignmentBytes; }
  bool empty() const { return size_ == 0; }
  std::span<std::byte> span() { return {data_, size_}; }
  std::span<const std::byte> span() const { return {data_, size_}; }

 private:
  void Release();
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace cerulean
