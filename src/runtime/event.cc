#include "runtime/event.h"

namespace cerulean {

void Event::Set() {
  set_ = true;
  while (Waiter* waiter = waiters_.PopFront()) {
    waiter->cancel_callback.reset();
    env_.Schedule(waiter->handle);
  }
}

void Event::Waiter::await_suspend(std::coroutine_handle<> h) {
  handle = h;
  event.waiters_.PushBack(this);
  cancel_callback.emplace(cancel, &Waiter::OnCancel, this);
}

void Event::Waiter::OnCancel(void* context) {
  auto* waiter = static_cast<Waiter*>(context);
  if (!waiter->linked()) return;
  IntrusiveList<Waiter>::Remove(waiter);
  waiter->status = waiter->cancel.reason();
  waiter->event.env_.Schedule(waiter->handle);
}

}  // namespace cerulean
