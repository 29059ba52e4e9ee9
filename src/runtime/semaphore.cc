#include "runtime/semaphore.h"

namespace cerulean {

void Semaphore::Release() {
  if (Waiter* waiter = waiters_.PopFront()) {
    waiter->granted = true;
    waiter->cancel_callback.reset();
    env_.Schedule(waiter->handle);
    return;
  }
  available_++;
}

void Semaphore::Waiter::await_suspend(std::coroutine_handle<> h) {
  handle = h;
  semaphore.waiters_.PushBack(this);
  cancel_callback.emplace(cancel, &Waiter::OnCancel, this);
}

void Semaphore::Waiter::OnCancel(void* context) {
  auto* waiter = static_cast<Waiter*>(context);
  if (!waiter->linked()) return;
  IntrusiveList<Waiter>::Remove(waiter);
  waiter->semaphore.env_.Schedule(waiter->handle);
}

}  // namespace cerulean
