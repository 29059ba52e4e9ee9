// FramePool: per-thread free lists for coroutine frames, so that the steady state of a hot path
// (an rpc call, a read) allocates nothing from malloc. Frames are recycled by size class; a frame
// freed on another thread simply joins that thread's list. Thread-safe by being thread-local.
#pragma once

#include <cstddef>

namespace cerulean {

class FramePool {
 public:
  static void* Allocate(size_t bytes);
  static void Free(void* frame, size_t bytes);

  static constexpr size_t kClassBytes = 64;          // size classes are multiples of this
  static constexpr size_t kPooledBytesMax = 4096;    // larger frames go straight to malloc
  static constexpr size_t kFramesPerClassMax = 4096; // bound on what one thread keeps
};

}  // namespace cerulean
