// Test support: run a Task to completion on a fresh io_uring EventLoop in the calling thread.
#pragma once

#include <optional>

#include "base/check.h"
#include "runtime/spawn.h"
#include "runtime/uring/event_loop.h"
#include "runtime/uring/uring_env.h"

namespace cerulean::testing {

// Runs the task produced by `make(env)` until it finishes; returns its value.
template <typename MakeTask>
auto RunOnLoop(MakeTask make) {
  EventLoop loop;
  UringEnv env(loop);
  using T = typename decltype(make(env))::promise_type::ValueType;
  if constexpr (std::is_void_v<T>) {
    bool done = false;
    Spawn(env, [](Task<void> task, bool* flag) -> Task<void> {
      co_await std::move(task);
      *flag = true;
    }(make(env), &done));
    while (!done) loop.RunOnce(/*may_block=*/true);
  } else {
    std::optional<T> result;
    Spawn(env, [](Task<T> task, std::optional<T>* out) -> Task<void> {
      out->emplace(co_await std::move(task));
    }(make(env), &result));
    while (!result.has_value()) loop.RunOnce(/*may_block=*/true);
    return std::move(*result);
  }
}

}  // namespace cerulean::testing
