// Anonymous memory on huge-page boundaries, with transparent huge pages asked for, so that it
// runs physically contiguous: what O_DIRECT transfers want (base/buffer_pool.h says why).
#pragma once

#include <cstddef>

namespace cerulean {

inline constexpr size_t kHugePageBytes = 2ull << 20;

// `bytes` (a multiple of kHugePageBytes) at a huge-page boundary; CHECK-fails when out of
// memory. Free with munmap.
std::byte* MapHugePageAligned(size_t bytes);

// Faults the memory in now (for writing), so that its first use does not pay for it: fresh
// memory is several times slower to write on first touch.
void Prefault(std::byte* data, size_t bytes);

}  // namespace cerulean
