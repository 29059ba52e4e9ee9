// CoreOnShard: what the public clients (cerulean::Client, cerulean::KvClient) are made of. A
// protocol core that lives on a shard (event-loop thread) of its own, and the two ways a
// caller's thread reaches it: Run waits for the call, Start returns a std::future of it.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <utility>

#include "runtime/uring/shard_set.h"

namespace cerulean::client {

template <typename Core, typename Options>
class CoreOnShard {
 public:
  // The shard spins `options.poll_before_sleep` for completions before it sleeps.
  explicit CoreOnShard(Options options)
      : options(std::move(options)),
        shards({.shard_count = 1, .loop = {.poll_before_sleep = this->options.poll_before_sleep}}) {}

  // Runs `function(core)` on the shard and waits for it.
  template <typename T, typename Function>
  T Run(Function function) {
    return shards.RunAndWait<T>(0, [this, &function](Env&) -> Task<T> { co_return co_await function(*core); });
  }

  // Starts `function(core)` on the shard; the future holds its result. `function` is kept alive
  // until the task it starts ends, so the task may refer to its captures.
  template <typename T, typename Function>
  std::future<T> Start(Function function) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> future = promise->get_future();
    shards.Post(0, [this, promise, function = std::move(function)](Env&) mutable -> Task<void> {
      promise->set_value(co_await function(*core));
    });
    return future;
  }

  // Starts `function(core)` on the shard; `done` gets its result there, on the shard's thread,
  // as soon as it is ready. `function` is kept alive until then.
  template <typename T, typename Function>
  void StartThen(Function function, std::function<void(T)> done) {
    shards.Post(0, [this, function = std::move(function), done = std::move(done)](Env&) mutable -> Task<void> {
      done(co_await function(*core));
    });
  }

  Options options;
  ShardSet shards;
  std::unique_ptr<Core> core;  // lives on the shard
};

}  // namespace cerulean::client
