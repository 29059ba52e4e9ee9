// EventLoop: one io_uring ring, a run queue of ready coroutines, a timer heap and an inbox for
// messages from other shards. One per shard thread; everything but Post() and Wake() must be
// called from that thread. The loop is the only place that blocks (in io_uring_enter).
#pragma once

#include <liburing.h>

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "base/time.h"
#include "runtime/bounded_mpsc_queue.h"
#include "runtime/ring_queue.h"
#include "runtime/timer_queue.h"

namespace cerulean {

// What an io_uring submission points at (its user_data): where the result goes and who resumes.
struct IoCompletion {
  int32_t result = 0;
  uint32_t flags = 0;
  std::coroutine_handle<> handle;
};

// A unit of work posted from another thread; run() is called on the loop's thread.
struct LoopMessage {
  void (*run)(LoopMessage* message) = nullptr;
};

struct EventLoopOptions {
  uint32_t ring_entries = 1024;
  size_t inbox_capacity = 4096;  // power of two; the bound on messages queued from other shards
  // Before sleeping, watch for completions this long. Waking a sleeping thread costs tens of
  // microseconds on a VM, more than a disk read's share of it; a busy server that polls across
  // the gaps between requests never pays it. Zero: sleep at once (clients, tests, laptops).
  Duration poll_before_sleep = Duration::zero();
};

class EventLoop {
 public:
  explicit EventLoop(EventLoopOptions options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop running on the calling thread, or nullptr.
  static EventLoop* Current();

  void Schedule(std::coroutine_handle<> handle) { ready_.Push(handle); }
  TimePoint Now() const;
  void ArmTimer(Timer& timer) { timers_.Arm(timer); }
  void DisarmTimer(Timer& timer) { timers_.Disarm(timer); }

  // A submission queue entry to fill; submitted at the next turn of the loop.
  io_uring_sqe* GetSqe();
  // Asks the kernel to cancel the operation whose user_data is `completion`.
  void CancelIo(IoCompletion* completion);

  // Runs until Stop(). RunOnce is one turn: submit and reap I/O (blocking only when nothing is
  // ready and `may_block`), fire due timers, drain the inbox, run ready coroutines.
  void Run();
  void RunOnce(bool may_block);
  void Stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

  // Thread-safe. False when the inbox is full: the sender retries later.
  bool Post(LoopMessage* message);
  // Thread-safe: interrupts a blocking wait.
  void Wake();

 private:
  void RunReady();
  void FireTimers();
  void DrainInbox();
  void SubmitAndReap(bool may_block);
  void ArmWakeRead();
  // Watches the rings and the inbox for up to poll_before_sleep; true if work showed up.
  bool PollBeforeSleep();

  const Duration poll_before_sleep_;
  io_uring ring_;
  RingQueue<std::coroutine_handle<>> ready_;
  TimerQueue timers_;
  BoundedMpscQueue<LoopMessage*> inbox_;
  int wake_fd_ = -1;
  uint64_t wake_value_ = 0;
  bool wake_read_armed_ = false;
  std::atomic<bool> sleeping_{false};
  std::atomic<int> posting_{0};  // threads inside Post: the destructor waits for them
  bool stopping_ = false;
};

}  // namespace cerulean
