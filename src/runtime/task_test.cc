#include "runtime/task.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"

namespace cerulean {
namespace {

using testing::RunOnLoop;

Task<int> Constant(int value) { co_return value; }

Task<int> AddAsync(int a, int b) {
  const int x = co_await Constant(a);
  const int y = co_await Constant(b);
  co_return x + y;
}

TEST(TaskTest, AwaitsNestedTasksAndReturnsValue) {
  EXPECT_EQ(RunOnLoop([](Env&) { return AddAsync(2, 3); }), 5);
}

TEST(TaskTest, LazyTaskDoesNotRunUntilAwaited) {
  bool ran = false;
  {
    auto task = [](bool* flag) -> Task<void> {
      *flag = true;
      co_return;
    }(&ran);
    EXPECT_FALSE(ran);
  }  // destroying an unstarted task frees its frame without running it (ASan checks the free)
  EXPECT_FALSE(ran);
}

// Frame-local objects are destroyed exactly once, when the coroutine finishes.
struct Tracked {
  int* destroyed;
  explicit Tracked(int* d) : destroyed(d) {}
  Tracked(Tracked&& other) noexcept : destroyed(std::exchange(other.destroyed, nullptr)) {}
  ~Tracked() {
    if (destroyed != nullptr) (*destroyed)++;
  }
};

TEST(TaskTest, FrameLocalsAndArgumentsDestroyedOnce) {
  int destroyed = 0;
  RunOnLoop([&](Env& env) -> Task<void> {
    return [](Env& e, Tracked argument) -> Task<void> {
      Tracked local(argument.destroyed);
      Status slept = co_await Sleep(e, 1ms);
      EXPECT_TRUE(slept.ok());
    }(env, Tracked(&destroyed));
  });
  EXPECT_EQ(destroyed, 2);
}

TEST(TaskTest, DeepChainOfSynchronousAwaits) {
  // Symmetric transfer keeps this flat in optimised builds; -O0 (and ASan) builds do not
  // guarantee the tail call, so the depth stays modest enough for those too.
  struct Recurse {
    static Task<int> Depth(int n) {
      if (n == 0) co_return 0;
      co_return 1 + co_await Depth(n - 1);
    }
  };
  EXPECT_EQ(RunOnLoop([](Env&) { return Recurse::Depth(2000); }), 2000);
}

TEST(TaskTest, MoveOnlyResults) {
  auto value = RunOnLoop([](Env&) -> Task<std::unique_ptr<std::string>> {
    co_return std::make_unique<std::string>("cerulean");
  });
  EXPECT_EQ(*value, "cerulean");
}

TEST(WhenAllTest, RunsConcurrentlyAndKeepsOrder) {
  std::vector<int> finished;
  auto results = RunOnLoop([&](Env& env) -> Task<std::vector<int>> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 5; i++) {
      tasks.push_back([](Env& e, int index, std::vector<int>* done) -> Task<int> {
        // Later tasks sleep less. Run one after another they would finish in input order; run
        // together they finish in reverse. (Order, not elapsed time, shows the concurrency.)
        Status slept = co_await Sleep(e, std::chrono::milliseconds(10 * (5 - index)));
        EXPECT_TRUE(slept.ok());
        done->push_back(index);
        co_return index * 10;
      }(env, i, &finished));
    }
    co_return co_await WhenAll(std::move(tasks));
  });
  EXPECT_EQ(results, (std::vector<int>{0, 10, 20, 30, 40}));  // results in input order
  EXPECT_EQ(finished, (std::vector<int>{4, 3, 2, 1, 0}));
}

TEST(WhenAllTest, EmptyAndSynchronousChildren) {
  auto results = RunOnLoop([](Env&) -> Task<std::vector<int>> {
    std::vector<int> empty = co_await WhenAll(std::vector<Task<int>>{});
    EXPECT_TRUE(empty.empty());
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 3; i++) tasks.push_back(Constant(i));
    co_return co_await WhenAll(std::move(tasks));
  });
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2}));
}

TEST(WhenAllTest, VoidTasks) {
  int count = 0;
  RunOnLoop([&](Env& env) -> Task<void> {
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 4; i++) {
      tasks.push_back([](Env& e, int* c) -> Task<void> {
        Status slept = co_await Sleep(e, 1ms);
        EXPECT_TRUE(slept.ok());
        (*c)++;
      }(env, &count));
    }
    co_await WhenAll(std::move(tasks));
  });
  EXPECT_EQ(count, 4);
}

TEST(TaskGroupTest, JoinWaitsForEveryTask) {
  int finished = 0;
  RunOnLoop([&](Env& env) -> Task<void> {
    TaskGroup group(env);
    for (int i = 0; i < 10; i++) {
      group.Spawn([](Env& e, int* f, int i) -> Task<void> {
        Status slept = co_await Sleep(e, std::chrono::milliseconds(i));
        EXPECT_TRUE(slept.ok());
        (*f)++;
      }(env, &finished, i));
    }
    EXPECT_EQ(group.live(), 10u);
    co_await group.Join();
    EXPECT_EQ(group.live(), 0u);
  });
  EXPECT_EQ(finished, 10);
}

}  // namespace
}  // namespace cerulean
