// WhenAll: run tasks concurrently on the current loop and wait for all of them. Results come
// back in the order of the inputs. Single-threaded fan-out; for other shards see ShardSet.
#pragma once

#include <coroutine>
#include <optional>
#include <vector>

#include "runtime/task.h"

namespace cerulean {
namespace detail {

struct WhenAllState {
  size_t remaining = 0;
  std::coroutine_handle<> parent;
};

// Starts when resumed, and on finishing resumes the parent if it was the last child.
struct WhenAllChild {
  struct promise_type {
    WhenAllState* state = nullptr;
    WhenAllChild get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        WhenAllState* state = self.promise().state;
        self.destroy();
        if (--state->remaining == 0) return state->parent;
        return std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
    static void* operator new(size_t bytes) { return FramePool::Allocate(bytes); }
    static void operator delete(void* frame, size_t bytes) { FramePool::Free(frame, bytes); }
  };
  std::coroutine_handle<promise_type> handle;
};

template <typename T>
WhenAllChild RunWhenAllChild(Task<T> task, std::optional<T>* slot) {
  slot->emplace(co_await std::move(task));
}
inline WhenAllChild RunWhenAllChild(Task<void> task, std::nullptr_t) { co_await std::move(task); }

struct WhenAllStart {
  WhenAllState& state;
  std::vector<WhenAllChild>& children;
  bool await_ready() const noexcept { return children.empty(); }
  bool await_suspend(std::coroutine_handle<> parent) noexcept {
    state.parent = parent;
    state.remaining = children.size() + 1;  // +1 so that no child can resume us while starting
    for (WhenAllChild& child : children) {
      child.handle.promise().state = &state;
      child.handle.resume();
    }
    return --state.remaining != 0;
  }
  void await_resume() const noexcept {}
};

}  // namespace detail

template <typename T>
Task<std::vector<T>> WhenAll(std::vector<Task<T>> tasks) {
  std::vector<std::optional<T>> slots(tasks.size());
  std::vector<detail::WhenAllChild> children;
  children.reserve(tasks.size());
  for (size_t i = 0; i < tasks.size(); i++) {
    children.push_back(detail::RunWhenAllChild(std::move(tasks[i]), &slots[i]));
  }
  detail::WhenAllState state;
  co_await detail::WhenAllStart{state, children};
  std::vector<T> results;
  results.reserve(slots.size());
  for (auto& slot : slots) results.push_back(std::move(*slot));
  co_return results;
}

inline Task<void> WhenAll(std::vector<Task<void>> tasks) {
  std::vector<detail::WhenAllChild> children;
  children.reserve(tasks.size());
  for (auto& task : tasks) children.push_back(detail::RunWhenAllChild(std::move(task), nullptr));
  detail::WhenAllState state;
  co_await detail::WhenAllStart{state, children};
}

}  // namespace cerulean
