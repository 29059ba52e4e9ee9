// RingQueue: a growable FIFO ring buffer. Unlike std::deque it stops allocating once it has
// reached its working size, which keeps an event loop's run queue allocation-free.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace cerulean {

template <typename T>
class RingQueue {
 public:
  explicit RingQueue(size_t initial_capacity = 256) : slots_(initial_capacity) {}

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

  void Push(T value) {
    if (count_ == slots_.size()) Grow();
    slots_[(head_ + count_) % slots_.size()] = std::move(value);
    count_++;
  }

  T Pop() {
    T value = std::move(slots_[head_]);
    head_ = (head_ + 1) % slots_.size();
    count_--;
    return value;
  }

 private:
  void Grow() {
    std::vector<T> bigger(slots_.size() * 2);
    for (size_t i = 0; i < count_; i++) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace cerulean
