#include "base/buffer_pool.h"

#include <bit>
#include <cstdlib>
#include <vector>

#include "base/check.h"

namespace cerulean {
namespace {

constexpr size_t kClassCount =
    std::countr_zero(PooledBuffer::kClassBytesMax) - std::countr_zero(PooledBuffer::kClassBytesMin) + 1;

struct ThreadBufferCache {
  std::vector<std::byte*> free[kClassCount];
  ~ThreadBufferCache() {
    for (auto& list : free) {
      for (std::byte* buffer : list) std::free(buffer);
    }
  }
};

thread_local ThreadBufferCache cache;

size_t ClassCapacity(size_t size) {
  return std::bit_ceil(std::max(size, PooledBuffer::kClassBytesMin));
}

size_t ClassIndex(size_t capacity) {
  return std::countr_zero(capacity) - std::countr_zero(PooledBuffer::kClassBytesMin);
}

}  // namespace

PooledBuffer PooledBuffer::Allocate(size_t size) {
  PooledBuffer buffer;
  if (size == 0) return buffer;
  buffer.size_ = size;
  if (size > kClassBytesMax) {
    buffer.capacity_ = (size + kAlignmentBytes - 1) / kAlignmentBytes * kAlignmentBytes;
  } else {
    buffer.capacity_ = ClassCapacity(size);
    auto& list = cache.free[ClassIndex(buffer.capacity_)];
    if (!list.empty()) {
      buffer.data_ = list.back();
      list.pop_back();
      return buffer;
    }
  }
  buffer.data_ = static_cast<std::byte*>(std::aligned_alloc(kAlignmentBytes, buffer.capacity_));
  CHECK(buffer.data_ != nullptr) << "out of memory allocating " << buffer.capacity_ << " bytes";
  return buffer;
}

void PooledBuffer::Release() {
  if (data_ == nullptr) return;
  if (capacity_ <= kClassBytesMax) {
    auto& list = cache.free[ClassIndex(capacity_)];
    if ((list.size() + 1) * capacity_ <= kCachedBytesPerClassMax) {
      list.push_back(data_);
      data_ = nullptr;
      return;
    }
  }
  std::free(data_);
  data_ = nullptr;
}

}  // namespace cerulean
