// TimerQueue: a binary min-heap of intrusive timers ordered by (deadline, arming order), so that
// timers with equal deadlines fire in the order they were armed (the simulator relies on that).
// Used by both event loops. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/time.h"

namespace cerulean {

// Owned by whoever arms it; must stay alive while armed.
struct Timer {
  static constexpr size_t kNotArmed = SIZE_MAX;
  using Function = void (*)(Timer* timer);

  TimePoint deadline;
  Function fire = nullptr;
  void* context = nullptr;  // free for the owner's use
  size_t heap_index = kNotArmed;
  uint64_t sequence = 0;

  bool armed() const { return heap_index != kNotArmed; }
};

class TimerQueue {
 public:
  void Arm(Timer& timer);
  void Disarm(Timer& timer);
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The earliest deadline, or TimePoint::Max() when empty.
  TimePoint NextDeadline() const { return heap_.empty() ? TimePoint::Max() : heap_[0]->deadline; }
  // Disarms and returns the earliest timer if its deadline is <= now, else nullptr.
  Timer* PopExpired(TimePoint now);

 private:
  static bool Before(const Timer* a, const Timer* b);
  void SiftUp(size_t index);
  void SiftDown(size_t index);
  void Place(size_t index, Timer* timer);

  std::vector<Timer*> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace cerulean
