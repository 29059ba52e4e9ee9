// ShardSet: one thread per shard, each running its own EventLoop and UringEnv, optionally pinned
// to a core. Shards share nothing; they talk only through bounded lock-free inboxes:
//   Result<int> r = co_await shards.Call(1, [](Env& env) -> Task<Result<int>> { ... });
// runs the lambda on shard 1 and resumes the caller on its own shard with the result.
// Post/RunAndWait are called from threads outside the shards; Stop and the destructor from the
// thread that owns the ShardSet; Call from inside a shard.
#pragma once

#include <coroutine>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "runtime/env.h"
#include "runtime/sleep.h"
#include "runtime/spawn.h"
#include "runtime/uring/event_loop.h"
#include "runtime/uring/uring_env.h"

namespace cerulean {

struct ShardSetOptions {
  size_t shard_count = 1;
  // Pin shard i to core (first_core + i) % cores, so that shards do not migrate.
  bool pin_to_cores = false;
  size_t first_core = 0;
  EventLoopOptions loop;
};

class ShardSet {
 public:
  explicit ShardSet(ShardSetOptions options);
  ~ShardSet();  // stops and joins
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  size_t size() const { return shards_.size(); }
  // The index of the shard running the calling thread, or SIZE_MAX outside the shards.
  static size_t CurrentShard();

  // From any thread: runs `start(env)` as a task on shard `shard`. Blocks only while the
  // shard's inbox is full.
  void Post(size_t shard, std::function<Task<void>(Env& env)> start);
  // From a thread outside the shards: runs `function(env)` on `shard` and blocks until its task
  // returns, handing back the result. For main() and tools; never call it from a shard.
  template <typename T>
  T RunAndWait(size_t shard, std::function<Task<T>(Env& env)> function);

  // From the owning thread: asks every loop to stop and joins the threads. Tasks still suspended when
  // a loop stops are abandoned; shut services down (Post a drain) before calling Stop.
  void Stop();

  // From a task on one of the shards: runs `function(env)` (which returns a Task<T>, T not void)
  // on `shard`, and returns its result on the caller's shard.
  template <typename Function>
  auto Call(size_t shard, Function function)
      -> Task<typename decltype(std::declval<Function>()(std::declval<Env&>()))::promise_type::ValueType>;

 private:
  struct Shard {
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<UringEnv> env;
    std::thread thread;
  };
  template <typename T, typename Function>
  struct CrossShardCall;
  void RunShard(size_t index, std::atomic<int>* started);

  ShardSetOptions options_;
  std::vector<std::unique_ptr<Shard>> shards_;
  bool stopped_ = false;
};

// The two hops of a cross-shard call: to the target shard, then back to the caller's shard.
// The state lives in the caller's coroutine frame, which outlives the call. A full inbox is
// back-pressure: the sender yields to its own loop and tries again, so shards never spin on
// each other.
template <typename T, typename Function>
struct ShardSet::CrossShardCall {
  struct Message : LoopMessage {
    CrossShardCall* call;
  };
  ShardSet& shards;
  size_t origin;
  size_t target;
  Function& function;
  Message to_target;
  Message to_origin;
  std::coroutine_handle<> caller;
  std::optional<T> result;

  Task<void> RunOnTarget() {
    Env& env = *shards.shards_[target]->env;
    result.emplace(co_await function(env));
    while (!shards.shards_[origin]->loop->Post(&to_origin)) co_await Yield(env);
  }

  struct Finished {
    CrossShardCall& call;
    bool await_ready() const { return false; }
    void await_suspend(std::coroutine_handle<> handle) { call.caller = handle; }
    void await_resume() const {}
  };
};

template <typename Function>
auto ShardSet::Call(size_t shard, Function function)
    -> Task<typename decltype(std::declval<Function>()(std::declval<Env&>()))::promise_type::ValueType> {
  using T = typename decltype(function(std::declval<Env&>()))::promise_type::ValueType;
  const size_t origin = CurrentShard();
  CHECK(origin < shards_.size()) << "ShardSet::Call from outside the shards";
  CHECK(shard < shards_.size());
  CrossShardCall<T, Function> call{*this, origin, shard, function, {}, {}, {}, {}};
  call.to_target.call = &call;
  call.to_target.run = [](LoopMessage* message) {
    auto* call = static_cast<typename CrossShardCall<T, Function>::Message*>(message)->call;
    Spawn(*call->shards.shards_[call->target]->env, call->RunOnTarget());
  };
  call.to_origin.call = &call;
  call.to_origin.run = [](LoopMessage* message) {
    static_cast<typename CrossShardCall<T, Function>::Message*>(message)->call->caller.resume();
  };
  Env& own = *shards_[origin]->env;
  while (!shards_[shard]->loop->Post(&call.to_target)) co_await Yield(own);
  co_await typename CrossShardCall<T, Function>::Finished{call};
  co_return std::move(*call.result);
}

template <typename T>
T ShardSet::RunAndWait(size_t shard, std::function<Task<T>(Env& env)> function) {
  CHECK(CurrentShard() == SIZE_MAX) << "RunAndWait would block a shard";
  // Shared, so that the shard may still be inside set_value when this thread wakes and leaves.
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> future = promise->get_future();
  Post(shard, [&function, promise](Env& env) -> Task<void> {
    if constexpr (std::is_void_v<T>) {
      co_await function(env);
      promise->set_value();
    } else {
      T value = co_await function(env);  // the task is gone before the caller can wake
      promise->set_value(std::move(value));
    }
  });
  return future.get();
}

}  // namespace cerulean
