// AlignedBuffer: an owned heap buffer aligned for O_DIRECT (4 KiB by default). Move-only;
// thread-compatible.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <span>
#include <utility>

#include "base/check.h"

namespace cerulean {

inline constexpr size_t kDirectIoAlignmentBytes = 4096;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size, size_t alignment = kDirectIoAlignmentBytes) : size_(size) {
    CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0) << "alignment " << alignment;
    if (size == 0) return;
    const size_t capacity = (size + alignment - 1) / alignment * alignment;
    data_ = static_cast<std::byte*>(std::aligned_alloc(alignment, capacity));
    CHECK(data_ != nullptr) << "out of memory allocating " << capacity << " bytes";
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<std::byte> span() { return {data_, size_}; }
  std::span<const std::byte> span() const { return {data_, size_}; }

 private:
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace cerulean
