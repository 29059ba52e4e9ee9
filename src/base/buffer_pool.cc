#include "base/buffer_pool.h"

#include <sys/mman.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "base/check.h"
#include "base/huge_pages.h"

namespace cerulean {
namespace {

constexpr size_t kClassCount =
    std::countr_zero(PooledBuffer::kClassBytesMax) - std::countr_zero(PooledBuffer::kClassBytesMin) + 1;

bool IsMapped(size_t capacity) { return capacity >= PooledBuffer::kMappedBytesMin; }

void FreeMemory(std::byte* data, size_t capacity) {
  if (IsMapped(capacity)) {
    munmap(data, capacity);
  } else {
    std::free(data);
  }
}

struct ThreadBufferCache {
  std::vector<std::byte*> free[kClassCount];
  ~ThreadBufferCache() {
    for (size_t index = 0; index < kClassCount; index++) {
      for (std::byte* buffer : free[index]) FreeMemory(buffer, PooledBuffer::kClassBytesMin << index);
    }
  }
};

thread_local ThreadBufferCache cache;

size_t ClassCapacity(size_t size) {
  return std::bit_ceil(std::max(size, PooledBuffer::kClassBytesMin));
}

size_t ClassIndex(size_t capacity) {
  // (The min is for the compiler, which cannot see that callers keep within the classes.)
  return std::min<size_t>(std::countr_zero(capacity) - std::countr_zero(PooledBuffer::kClassBytesMin), kClassCount - 1);
}

// Keeps a free buffer of a size class for reuse, or frees it when the class holds enough.
void CacheOrFree(std::byte* data, size_t capacity) {
  auto& list = cache.free[ClassIndex(capacity)];
  if ((list.size() + 1) * capacity <= PooledBuffer::kCachedBytesPerClassMax) {
    list.push_back(data);
  } else {
    FreeMemory(data, capacity);
  }
}

}  // namespace

PooledBuffer PooledBuffer::Allocate(size_t size) {
  PooledBuffer buffer;
  if (size == 0) return buffer;
  buffer.size_ = size;
  if (size > kClassBytesMax) {
    buffer.capacity_ = (size + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    buffer.data_ = MapHugePageAligned(buffer.capacity_);
    return buffer;
  }
  buffer.capacity_ = ClassCapacity(size);
  auto& list = cache.free[ClassIndex(buffer.capacity_)];
  if (!list.empty()) {
    buffer.data_ = list.back();
    list.pop_back();
    return buffer;
  }
  if (!IsMapped(buffer.capacity_)) {
    buffer.data_ = static_cast<std::byte*>(std::aligned_alloc(kAlignmentBytes, buffer.capacity_));
    CHECK(buffer.data_ != nullptr) << "out of memory allocating " << buffer.capacity_ << " bytes";
    return buffer;
  }
  // Classes below a huge page share one: the rest of it goes to the free list. Each part is
  // unmapped on its own when freed (the kernel splits the huge page; the rest stays contiguous).
  const size_t mapped_bytes = std::max(buffer.capacity_, kHugePageBytes);
  buffer.data_ = MapHugePageAligned(mapped_bytes);
  for (size_t at = buffer.capacity_; at < mapped_bytes; at += buffer.capacity_) {
    CacheOrFree(buffer.data_ + at, buffer.capacity_);
  }
  return buffer;
}

void PooledBuffer::Release() {
  if (data_ == nullptr) return;
  if (capacity_ <= kClassBytesMax) {
    CacheOrFree(data_, capacity_);
  } else {
    FreeMemory(data_, capacity_);
  }
  data_ = nullptr;
}

}  // namespace cerulean
