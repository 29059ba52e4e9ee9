// BoundedMpscQueue: a fixed-capacity lock-free queue that many threads push into and one thread
// pops from (after Dmitry Vyukov's bounded queue: a sequence number per cell, no locks, no
// allocation after construction). It carries cross-shard messages into an event loop.
// TryPush is thread-safe; TryPop is called by the owning loop's thread only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/check.h"

namespace cerulean {

template <typename T>
class BoundedMpscQueue {
 public:
  explicit BoundedMpscQueue(size_t capacity) : mask_(capacity - 1), cells_(new Cell[capacity]) {
    CHECK(capacity >= 2 && (capacity & (capacity - 1)) == 0) << "capacity must be a power of 2";
    for (size_t i = 0; i < capacity; i++) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }

  // False when full: the caller backs off (the bound is the back-pressure between shards).
  bool TryPush(T value) {
    size_t position = tail_.load(std::memory_order_relaxed);
    while (true) {
      Cell& cell = cells_[position & mask_];
      const size_t sequence = cell.sequence.load(std::memory_order_acquire);
      const intptr_t difference = static_cast<intptr_t>(sequence) - static_cast<intptr_t>(position);
      if (difference == 0) {
        if (tail_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
          cell.value = std::move(value);
          // seq_cst, not just release: EventLoop's sleep/wake handshake relies on it.
          cell.sequence.store(position + 1, std::memory_order_seq_cst);
          return true;
        }
      } else if (difference < 0) {
        return false;
      } else {
        position = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  bool TryPop(T& out) {
    const size_t position = head_;
    Cell& cell = cells_[position & mask_];
    const size_t sequence = cell.sequence.load(std::memory_order_acquire);
    if (static_cast<intptr_t>(sequence) - static_cast<intptr_t>(position + 1) < 0) return false;
    out = std::move(cell.value);
    cell.sequence.store(position + mask_ + 1, std::memory_order_release);
    head_ = position + 1;
    return true;
  }

  // seq_cst: the consumer's "am I idle?" check pairs with the producers' publishing store.
  bool Empty() const {
    const Cell& cell = cells_[head_ & mask_];
    return cell.sequence.load(std::memory_order_seq_cst) != head_ + 1;
  }

 private:
  struct Cell {
    std::atomic<size_t> sequence;
    T value;
  };
  const size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<size_t> tail_{0};
  alignas(64) size_t head_ = 0;
};

}  // namespace cerulean
