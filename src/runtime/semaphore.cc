#include "runtime/semaphore.h"

namespace cerulean {

void Semaphore::Release(size_t count) {
  available_ += count;
  while (Waiter* waiter = waiters_.Front()) {
    if (waiter->count > available_) break;
    waiters_.PopFront();
    available_ -= waiter->count;
    waiter->granted = true;
    waiter->cancel_callback.reset();
    env_.Schedule(waiter->handle);
  }
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
  // The waiter at the front may have been the one holding back smaller ones behind it.
  waiter->semaphore.Release(0);
}

}  // namespace cerulean
