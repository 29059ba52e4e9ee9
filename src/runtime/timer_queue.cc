#include "runtime/timer_queue.h"

#include "base/check.h"

namespace cerulean {

bool TimerQueue::Before(const Timer* a, const Timer* b) {
  if (a->deadline != b->deadline) return a->deadline < b->deadline;
  return a->sequence < b->sequence;
}

void TimerQueue::Place(size_t index, Timer* timer) {
  heap_[index] = timer;
  timer->heap_index = index;
}

void TimerQueue::SiftUp(size_t index) {
  Timer* timer = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (!Before(timer, heap_[parent])) break;
    Place(index, heap_[parent]);
    index = parent;
  }
  Place(index, timer);
}

void TimerQueue::SiftDown(size_t index) {
  Timer* timer = heap_[index];
  const size_t count = heap_.size();
  while (true) {
    size_t child = 2 * index + 1;
    if (child >= count) break;
    if (child + 1 < count && Before(heap_[child + 1], heap_[child])) child++;
    if (!Before(heap_[child], timer)) break;
    Place(index, heap_[child]);
    index = child;
  }
  Place(index, timer);
}

void TimerQueue::Arm(Timer& timer) {
  CHECK(!timer.armed()) << "timer armed twice";
  CHECK(timer.fire != nullptr);
  timer.sequence = next_sequence_++;
  heap_.push_back(&timer);
  timer.heap_index = heap_.size() - 1;
  SiftUp(timer.heap_index);
}

void TimerQueue::Disarm(Timer& timer) {
  if (!timer.armed()) return;
  const size_t index = timer.heap_index;
  CHECK(index < heap_.size() && heap_[index] == &timer);
  Timer* last = heap_.back();
  heap_.pop_back();
  timer.heap_index = Timer::kNotArmed;
  if (last == &timer) return;
  Place(index, last);
  SiftUp(index);
  SiftDown(last->heap_index);
}

Timer* TimerQueue::PopExpired(TimePoint now) {
  if (heap_.empty() || heap_[0]->deadline > now) return nullptr;
  Timer* timer = heap_[0];
  Disarm(*timer);
  return timer;
}

}  // namespace cerulean
