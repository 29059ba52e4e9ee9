// Semaphore: counts permits for coroutines on one loop; used as the bound on in-flight work
// (calls per connection, requests per connection). Waiters are served first come, first served.
// Single-threaded.
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>

#include "runtime/cancellation.h"
#include "runtime/env.h"
#include "runtime/intrusive_list.h"

namespace cerulean {

class Semaphore {
 public:
  Semaphore(Env& env, size_t permits) : env_(env), available_(permits) {}
  ~Semaphore() { CHECK(waiters_.empty()) << "semaphore destroyed with waiters"; }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  size_t available() const { return available_; }
  bool TryAcquire() {
    if (available_ == 0 || !waiters_.empty()) return false;
    available_--;
    return true;
  }
  // Hands the permit to the oldest waiter, if any.
  void Release();

  struct [[nodiscard]] Waiter : IntrusiveListNode {
    Semaphore& semaphore;
    CancelToken cancel;
    std::coroutine_handle<> handle;
    bool granted = false;
    std::optional<CancelCallback> cancel_callback;

    Waiter(Semaphore& s, CancelToken c) : semaphore(s), cancel(c) {}
    bool await_ready() {
      if (cancel.cancelled()) return true;
      granted = semaphore.TryAcquire();
      return granted;
    }
    void await_suspend(std::coroutine_handle<> h);
    // Ok with a permit held, or the token's reason without one.
    Status await_resume() {
      cancel_callback.reset();
      return granted ? Status::Ok() : cancel.reason();
    }
    static void OnCancel(void* context);
  };
  Waiter Acquire(CancelToken cancel = {}) { return Waiter(*this, cancel); }

 private:
  Env& env_;
  size_t available_;
  IntrusiveList<Waiter> waiters_;
};

}  // namespace cerulean
