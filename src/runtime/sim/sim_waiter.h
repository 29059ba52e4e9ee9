// SimWaiter: one suspended simulated operation, e.g. a read waiting for bytes or a connect waiting
// out its latency. It resumes its coroutine, through the world's ready queue, when someone wakes
// it, when its wake-up time comes, or when its cancel token fires, whichever is first. It lives
// in the awaiting coroutine's frame (co_await SimWaiter::On(...)). Single-threaded.
#pragma once

#include <coroutine>
#include <optional>

#include "base/status.h"
#include "base/time.h"
#include "runtime/cancellation.h"
#include "runtime/intrusive_list.h"
#include "runtime/timer_queue.h"

namespace cerulean {

class SimWorld;

class SimWaiter : public IntrusiveListNode {
 public:
  // Waits on `queue` until Wake()/WakeAll() or cancellation.
  static SimWaiter On(SimWorld& world, IntrusiveList<SimWaiter>& queue, CancelToken cancel = {}) {
    return SimWaiter(world, &queue, TimePoint::Max(), cancel);
  }
  // Waits until virtual time `wake_at`, or cancellation.
  static SimWaiter Until(SimWorld& world, TimePoint wake_at, CancelToken cancel = {}) {
    return SimWaiter(world, nullptr, wake_at, cancel);
  }

  ~SimWaiter();
  SimWaiter(const SimWaiter&) = delete;
  SimWaiter& operator=(const SimWaiter&) = delete;

  // Wakes every waiter of `queue`, in the order they started waiting.
  static void WakeAll(IntrusiveList<SimWaiter>& queue);

  bool await_ready() const { return cancel_.cancelled(); }
  void await_suspend(std::coroutine_handle<> handle);
  // Ok when woken or when the wake-up time came; the token's reason when cancelled.
  Status await_resume();

 private:
  SimWaiter(SimWorld& world, IntrusiveList<SimWaiter>* queue, TimePoint wake_at, CancelToken cancel)
      : world_(world), queue_(queue), wake_at_(wake_at), cancel_(cancel) {}

  // Resumes the coroutine once with `status`; later calls do nothing.
  void Finish(Status status);
  static void OnCancel(void* context);
  static void OnTimer(Timer* timer);

  SimWorld& world_;
  IntrusiveList<SimWaiter>* queue_;
  TimePoint wake_at_;
  CancelToken cancel_;
  Timer timer_;
  std::coroutine_handle<> handle_;
  std::optional<CancelCallback> cancel_callback_;
  bool finished_ = false;
  Status status_;
};

}  // namespace cerulean
