#include "runtime/sleep.h"

#include <optional>

namespace cerulean {
namespace {

struct SleepAwaiter {
  Env& env;
  TimePoint deadline;
  CancelToken cancel;
  Timer timer;
  std::coroutine_handle<> handle;
  std::optional<CancelCallback> cancel_callback;
  bool done = false;

  bool await_ready() const { return cancel.cancelled() || env.Now() >= deadline; }
  void await_suspend(std::coroutine_handle<> h) {
    handle = h;
    timer.deadline = deadline;
    timer.context = this;
    timer.fire = [](Timer* t) { static_cast<SleepAwaiter*>(t->context)->Finish(); };
    env.ArmTimer(timer);
    cancel_callback.emplace(cancel, [](void* self) {
      auto* awaiter = static_cast<SleepAwaiter*>(self);
      awaiter->env.DisarmTimer(awaiter->timer);
      awaiter->Finish();
    }, this);
  }
  void Finish() {
    if (done) return;
    done = true;
    env.Schedule(handle);
  }
  Status await_resume() {
    cancel_callback.reset();
    env.DisarmTimer(timer);
    return cancel.cancelled() ? cancel.reason() : Status::Ok();
  }
};

}  // namespace

Task<Status> SleepUntil(Env& env, TimePoint deadline, CancelToken cancel) {
  co_return co_await SleepAwaiter{env, deadline, cancel};
}

Task<Status> Sleep(Env& env, Duration duration, CancelToken cancel) {
  return SleepUntil(env, env.Now() + duration, cancel);
}

}  // namespace cerulean
