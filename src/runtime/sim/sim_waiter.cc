#include "runtime/sim/sim_waiter.h"

#include "runtime/sim/sim_world.h"

namespace cerulean {

SimWaiter::~SimWaiter() {
  // Normally already done when it resumed; this covers a frame destroyed while suspended, so
  // that no queue or timer is left pointing into it.
  if (linked()) IntrusiveList<SimWaiter>::Remove(this);
  world_.DisarmTimer(timer_);
}

void SimWaiter::WakeAll(IntrusiveList<SimWaiter>& queue) {
  while (SimWaiter* waiter = queue.PopFront()) waiter->Finish(Status::Ok());
}

void SimWaiter::await_suspend(std::coroutine_handle<> handle) {
  handle_ = handle;
  if (queue_ != nullptr) queue_->PushBack(this);
  if (wake_at_ != TimePoint::Max()) {
    timer_.deadline = wake_at_;
    timer_.context = this;
    timer_.fire = &SimWaiter::OnTimer;
    world_.ArmTimer(timer_);
  }
  cancel_callback_.emplace(cancel_, &SimWaiter::OnCancel, this);
}

Status SimWaiter::await_resume() {
  cancel_callback_.reset();
  // Reached without suspending only when the token was already cancelled.
  if (!finished_) return cancel_.reason();
  return status_;
}

void SimWaiter::Finish(Status status) {
  if (finished_) return;
  finished_ = true;
  status_ = std::move(status);
  if (linked()) IntrusiveList<SimWaiter>::Remove(this);
  world_.DisarmTimer(timer_);
  world_.Schedule(handle_);
}

void SimWaiter::OnCancel(void* context) {
  auto* waiter = static_cast<SimWaiter*>(context);
  waiter->Finish(waiter->cancel_.reason());
}

void SimWaiter::OnTimer(Timer* timer) {
  static_cast<SimWaiter*>(timer->context)->Finish(Status::Ok());
}

}  // namespace cerulean
