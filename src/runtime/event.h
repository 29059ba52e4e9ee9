// Event: a flag that coroutines on one loop can wait for. Set() wakes every waiter; Reset()
// lowers the flag again. Single-threaded.
#pragma once

#include <coroutine>
#include <optional>

#include "runtime/cancellation.h"
#include "runtime/env.h"
#include "runtime/intrusive_list.h"

namespace cerulean {

class Event {
 public:
  explicit Event(Env& env) : env_(env) {}
  ~Event() { CHECK(waiters_.empty()) << "event destroyed with waiters"; }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const { return set_; }
  void Set();
  void Reset() { set_ = false; }

  // co_await event.Wait(token): Ok once set, or the token's reason if cancelled first.
  struct [[nodiscard]] Waiter : IntrusiveListNode {
    Event& event;
    CancelToken cancel;
    std::coroutine_handle<> handle;
    Status status;
    std::optional<CancelCallback> cancel_callback;

    Waiter(Event& e, CancelToken c) : event(e), cancel(c) {}
    bool await_ready() const { return event.set_ || cancel.cancelled(); }
    void await_suspend(std::coroutine_handle<> h);
    Status await_resume() {
      cancel_callback.reset();
      if (event.set_ && status.ok()) return Status::Ok();
      return status.ok() ? cancel.reason() : status;
    }
    static void OnCancel(void* context);
  };
  Waiter Wait(CancelToken cancel = {}) { return Waiter(*this, cancel); }

 private:
  Env& env_;
  bool set_ = false;
  IntrusiveList<Waiter> waiters_;
};

}  // namespace cerulean
