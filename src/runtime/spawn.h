// Spawn: start a Task<void> that nobody awaits; it runs on the env's loop and frees itself when
// it finishes. Prefer TaskGroup, which can be joined, for anything that must finish before its
// owner is destroyed.
#pragma once

#include <coroutine>
#include <exception>

#include "runtime/env.h"
#include "runtime/task.h"

namespace cerulean {
namespace detail {

// A coroutine that starts suspended and destroys its own frame when it finishes.
struct DetachedTask {
  struct promise_type {
    DetachedTask get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
    static void* operator new(size_t bytes) { return FramePool::Allocate(bytes); }
    static void operator delete(void* frame, size_t bytes) { FramePool::Free(frame, bytes); }
  };
  std::coroutine_handle<promise_type> handle;
};

inline DetachedTask RunDetached(Task<void> task) { co_await std::move(task); }

}  // namespace detail

inline void Spawn(Env& env, Task<void> task) {
  env.Schedule(detail::RunDetached(std::move(task)).handle);
}

}  // namespace cerulean
