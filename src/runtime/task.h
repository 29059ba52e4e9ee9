// Task<T>: a lazily started C++20 coroutine that produces a T. Awaiting a Task starts it and
// resumes the awaiter when it finishes (symmetric transfer, so chains of awaits use no stack).
// A Task is owned by exactly one awaiter; destroying an unstarted Task destroys its frame.
// Tasks run on the thread of the event loop that resumes them; they are not thread-safe.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "base/check.h"
#include "runtime/frame_pool.h"

namespace cerulean {

template <typename T = void>
class Task;

namespace detail {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      return self.promise().continuation;
    }
    void await_resume() noexcept {}
  };

  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  // Errors are values in Cerulean; an exception escaping a coroutine is a bug.
  void unhandled_exception() noexcept { std::terminate(); }

  static void* operator new(size_t bytes) { return FramePool::Allocate(bytes); }
  static void operator delete(void* frame, size_t bytes) { FramePool::Free(frame, bytes); }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  using ValueType = T;
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  using ValueType = void;
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle handle) : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool valid() const { return static_cast<bool>(handle_); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
        handle.promise().continuation = awaiter;
        return handle;
      }
      T await_resume() {
        if constexpr (!std::is_void_v<T>) {
          CHECK(handle.promise().value.has_value());
          return std::move(*handle.promise().value);
        }
      }
    };
    CHECK(handle_) << "awaiting an empty or moved-from Task";
    return Awaiter{handle_};
  }

  // Gives up ownership of the frame (used by Spawn and WhenAll to start tasks).
  Handle Release() { return std::exchange(handle_, {}); }

 private:
  Handle handle_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace cerulean
