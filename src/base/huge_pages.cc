#include "base/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

#include "base/check.h"

namespace cerulean {

std::byte* MapHugePageAligned(size_t bytes) {
  // Mapping a huge page more than asked and trimming both ends is how to get the alignment.
  void* mapped = mmap(nullptr, bytes + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(mapped != MAP_FAILED) << "out of memory mapping " << bytes << " bytes";
  const uintptr_t start = reinterpret_cast<uintptr_t>(mapped);
  const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(uintptr_t{kHugePageBytes} - 1);
  if (aligned > start) munmap(mapped, aligned - start);
  const uintptr_t tail = aligned + bytes;
  if (start + bytes + kHugePageBytes > tail) munmap(reinterpret_cast<void*>(tail), start + bytes + kHugePageBytes - tail);
  // Advice only: without transparent huge pages the memory works, in small pages.
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<std::byte*>(aligned);
}

void Prefault(std::byte* data, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
  if (madvise(data, bytes, MADV_POPULATE_WRITE) == 0) return;
#endif
  // Kernels before 5.14: a write to every page does the same.
  for (size_t at = 0; at < bytes; at += 4096) static_cast<volatile std::byte*>(data)[at] = std::byte{0};
}

}  // namespace cerulean
