// Sleep and Yield for coroutines, through the Env's timers (virtual time in simulation).
#pragma once

#include "runtime/cancellation.h"
#include "runtime/env.h"
#include "runtime/task.h"

namespace cerulean {

// Ok after `duration`, or the token's reason if cancelled first.
Task<Status> Sleep(Env& env, Duration duration, CancelToken cancel = {});
Task<Status> SleepUntil(Env& env, TimePoint deadline, CancelToken cancel = {});

// Lets every other ready coroutine of the loop run before continuing.
struct YieldAwaiter {
  Env& env;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { env.Schedule(h); }
  void await_resume() const noexcept {}
};
inline YieldAwaiter Yield(Env& env) { return {env}; }

}  // namespace cerulean
