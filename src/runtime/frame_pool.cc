#include "runtime/frame_pool.h"

#include <cstdlib>
#include <new>

namespace cerulean {
namespace {

constexpr size_t kClassCount = FramePool::kPooledBytesMax / FramePool::kClassBytes;

struct FreeFrame {
  FreeFrame* next;
};

struct ThreadFrameLists {
  FreeFrame* heads[kClassCount] = {};
  size_t counts[kClassCount] = {};

  ~ThreadFrameLists() {
    for (FreeFrame*& head : heads) {
      while (head != nullptr) {
        FreeFrame* next = head->next;
        std::free(head);
        head = next;
      }
    }
  }
};

thread_local ThreadFrameLists lists;

size_t ClassOf(size_t bytes) { return (bytes + FramePool::kClassBytes - 1) / FramePool::kClassBytes - 1; }

}  // namespace

void* FramePool::Allocate(size_t bytes) {
  if (bytes > kPooledBytesMax) {
    void* frame = std::malloc(bytes);
    if (frame == nullptr) throw std::bad_alloc();
    return frame;
  }
  const size_t size_class = ClassOf(bytes);
  if (FreeFrame* frame = lists.heads[size_class]) {
    lists.heads[size_class] = frame->next;
    lists.counts[size_class]--;
    return frame;
  }
  void* frame = std::malloc((size_class + 1) * kClassBytes);
  if (frame == nullptr) throw std::bad_alloc();
  return frame;
}

void FramePool::Free(void* frame, size_t bytes) {
  if (bytes > kPooledBytesMax) return std::free(frame);
  const size_t size_class = ClassOf(bytes);
  if (lists.counts[size_class] >= kFramesPerClassMax) return std::free(frame);
  auto* node = static_cast<FreeFrame*>(frame);
  node->next = lists.heads[size_class];
  lists.heads[size_class] = node;
  lists.counts[size_class]++;
}

}  // namespace cerulean
