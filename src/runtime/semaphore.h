// Semaphore: counts permits for coroutines on one loop; used as the bound on in-flight work
// (calls per connection, requests per connection, bytes of request payloads). A waiter may ask
// for several permits at once. Waiters are served first come, first served, so a large request
// is not starved by small ones. Single-threaded.
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
  bool TryAcquire(size_t count = 1) {
    if (available_ < count || !waiters_.empty()) return false;
    available_ -= count;
    return true;
  }
  // Returns permits, handing them to the oldest waiters that they satisfy.
  void Release(size_t count = 1);

  struct [[nodiscard]] Waiter : IntrusiveListNode {
    Semaphore& semaphore;
    CancelToken cancel;
    size_t count;
    std::coroutine_handle<> handle;
    bool granted = false;
    std::optional<CancelCallback> cancel_callback;

    Waiter(Semaphore& s, CancelToken c, size_t n) : semaphore(s), cancel(c), count(n) {}
    bool await_ready() {
      if (cancel.cancelled()) return true;
      granted = semaphore.TryAcquire(count);
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
  Waiter Acquire(CancelToken cancel = {}, size_t count = 1) { return Waiter(*this, cancel, count); }

 private:
  Env& env_;
  size_t available_;
  IntrusiveList<Waiter> waiters_;
};

}  // namespace cerulean
