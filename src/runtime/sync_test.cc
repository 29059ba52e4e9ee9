// Timers, deadlines, cancellation, Event and Semaphore on a real io_uring loop.
#include <gtest/gtest.h>

#include "runtime/deadline.h"
#include "runtime/event.h"
#include "runtime/semaphore.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/test_loop.h"

namespace cerulean {
namespace {

using testing::RunOnLoop;

TEST(SleepTest, SleepsAtLeastTheDuration) {
  RunOnLoop([](Env& env) -> Task<void> {
    const TimePoint start = env.Now();
    Status slept = co_await Sleep(env, 20ms);
    EXPECT_TRUE(slept.ok());
    EXPECT_GE(env.Now() - start, Duration(20ms));
  });
}

TEST(SleepTest, TimersFireInDeadlineOrder) {
  std::vector<int> order;
  RunOnLoop([&](Env& env) -> Task<void> {
    TaskGroup group(env);
    for (int delay_ms : {30, 10, 20}) {
      group.Spawn([](Env& e, int ms, std::vector<int>* out) -> Task<void> {
        Status slept = co_await Sleep(e, std::chrono::milliseconds(ms));
        EXPECT_TRUE(slept.ok());
        out->push_back(ms);
      }(env, delay_ms, &order));
    }
    co_await group.Join();
  });
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
}

TEST(CancelTest, CancelWakesSleeperWithReason) {
  RunOnLoop([](Env& env) -> Task<void> {
    CancelSource source;
    TaskGroup group(env);
    Status result;
    group.Spawn([](Env& e, CancelToken token, Status* out) -> Task<void> {
      *out = co_await Sleep(e, 3600s, token);
    }(env, source.token(), &result));
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
    source.Cancel(Status::Cancelled("test"));
    source.Cancel(Status::Aborted("second cancel is ignored"));
    co_await group.Join();
    EXPECT_EQ(result.code(), StatusCode::kCancelled);
    EXPECT_EQ(source.reason().code(), StatusCode::kCancelled);
  });
}

TEST(CancelTest, AlreadyCancelledTokenFailsImmediately) {
  RunOnLoop([](Env& env) -> Task<void> {
    CancelSource source;
    source.Cancel(Status::Cancelled("before"));
    const TimePoint start = env.Now();
    Status slept = co_await Sleep(env, 3600s, source.token());
    EXPECT_EQ(slept.code(), StatusCode::kCancelled);
    EXPECT_LT(env.Now() - start, Duration(1s));
  });
}

TEST(CancelTest, CallbackUnregistersOnDestruction) {
  int calls = 0;
  CancelSource source;
  {
    CancelCallback callback(source.token(), [](void* c) { (*static_cast<int*>(c))++; }, &calls);
  }
  CancelCallback live(source.token(), [](void* c) { (*static_cast<int*>(c)) += 10; }, &calls);
  source.Cancel(Status::Cancelled("x"));
  EXPECT_EQ(calls, 10);
}

TEST(DeadlineTest, FiresDeadlineExceeded) {
  RunOnLoop([](Env& env) -> Task<void> {
    Deadline deadline(env, 10ms);
    const TimePoint start = env.Now();
    Status slept = co_await Sleep(env, 3600s, deadline.token());
    EXPECT_EQ(slept.code(), StatusCode::kDeadlineExceeded);
    EXPECT_TRUE(deadline.expired());
    EXPECT_GE(env.Now() - start, Duration(10ms));
    EXPECT_LT(env.Now() - start, Duration(1s));
  });
}

TEST(DeadlineTest, ParentCancellationPropagates) {
  RunOnLoop([](Env& env) -> Task<void> {
    CancelSource parent;
    Deadline deadline(env, 3600s, parent.token());
    TaskGroup group(env);
    Status result;
    group.Spawn([](Env& e, CancelToken token, Status* out) -> Task<void> {
      *out = co_await Sleep(e, 3600s, token);
    }(env, deadline.token(), &result));
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
    parent.Cancel(Status::Unavailable("shutting down"));
    co_await group.Join();
    EXPECT_EQ(result.code(), StatusCode::kUnavailable);
  });
}

TEST(DeadlineTest, UnexpiredDeadlineDisarmsOnDestruction) {
  RunOnLoop([](Env& env) -> Task<void> {
    { Deadline deadline(env, 5ms); }
    // If the timer were still armed it would touch the destroyed deadline (ASan would tell).
    Status slept = co_await Sleep(env, 10ms);
    EXPECT_TRUE(slept.ok());
  });
}

TEST(EventTest, SetWakesAllWaiters) {
  RunOnLoop([](Env& env) -> Task<void> {
    Event event(env);
    int woken = 0;
    TaskGroup group(env);
    for (int i = 0; i < 3; i++) {
      group.Spawn([](Event& ev, int* w) -> Task<void> {
        Status waited = co_await ev.Wait();
        EXPECT_TRUE(waited.ok());
        (*w)++;
      }(event, &woken));
    }
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
    EXPECT_EQ(woken, 0);
    event.Set();
    co_await group.Join();
    EXPECT_EQ(woken, 3);
    Status again = co_await event.Wait();  // already set: no suspension
    EXPECT_TRUE(again.ok());
  });
}

TEST(EventTest, WaitHonorsDeadline) {
  RunOnLoop([](Env& env) -> Task<void> {
    Event event(env);
    Deadline deadline(env, 5ms);
    Status waited = co_await event.Wait(deadline.token());
    EXPECT_EQ(waited.code(), StatusCode::kDeadlineExceeded);
  });
}

TEST(SemaphoreTest, BoundsConcurrencyFirstComeFirstServed) {
  RunOnLoop([](Env& env) -> Task<void> {
    Semaphore semaphore(env, 2);
    int running = 0, running_max = 0;
    std::vector<int> order;
    TaskGroup group(env);
    for (int i = 0; i < 6; i++) {
      group.Spawn([](Env& e, Semaphore& s, int* r, int* r_max, std::vector<int>* o, int id) -> Task<void> {
        Status acquired = co_await s.Acquire();
        EXPECT_TRUE(acquired.ok());
        o->push_back(id);
        *r_max = std::max(*r_max, ++*r);
        Status slept = co_await Sleep(e, 2ms);
        EXPECT_TRUE(slept.ok());
        --*r;
        s.Release();
      }(env, semaphore, &running, &running_max, &order, i));
    }
    co_await group.Join();
    EXPECT_EQ(running_max, 2);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(semaphore.available(), 2u);
  });
}

TEST(SemaphoreTest, CancelledWaiterLeavesNoPermitBehind) {
  RunOnLoop([](Env& env) -> Task<void> {
    Semaphore semaphore(env, 1);
    EXPECT_TRUE(semaphore.TryAcquire());
    Deadline deadline(env, 5ms);
    Status acquired = co_await semaphore.Acquire(deadline.token());
    EXPECT_EQ(acquired.code(), StatusCode::kDeadlineExceeded);
    semaphore.Release();
    EXPECT_EQ(semaphore.available(), 1u);
  });
}

TEST(SemaphoreTest, WeightedAcquireIsFirstComeFirstServed) {
  RunOnLoop([](Env& env) -> Task<void> {
    Semaphore bytes(env, 100);
    EXPECT_TRUE(bytes.TryAcquire(60));
    std::vector<int> order;
    TaskGroup group(env);
    // 50 waits for the 60 to come back; 10 fits now but must not jump the queue.
    group.Spawn([](Semaphore& s, std::vector<int>* o) -> Task<void> {
      Status acquired = co_await s.Acquire({}, 50);
      EXPECT_TRUE(acquired.ok());
      o->push_back(50);
      s.Release(50);
    }(bytes, &order));
    group.Spawn([](Semaphore& s, std::vector<int>* o) -> Task<void> {
      Status acquired = co_await s.Acquire({}, 10);
      EXPECT_TRUE(acquired.ok());
      o->push_back(10);
      s.Release(10);
    }(bytes, &order));
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
    EXPECT_TRUE(order.empty());
    bytes.Release(60);
    co_await group.Join();
    EXPECT_EQ(order, (std::vector<int>{50, 10}));
    EXPECT_EQ(bytes.available(), 100u);
  });
}

TEST(SemaphoreTest, CancelledLargeWaiterUnblocksSmallerOnes) {
  RunOnLoop([](Env& env) -> Task<void> {
    Semaphore bytes(env, 100);
    EXPECT_TRUE(bytes.TryAcquire(90));
    TaskGroup group(env);
    Status big, small;
    Deadline deadline(env, 5ms);
    group.Spawn([](Semaphore& s, CancelToken t, Status* out) -> Task<void> {
      *out = co_await s.Acquire(t, 50);
    }(bytes, deadline.token(), &big));
    group.Spawn([](Semaphore& s, Status* out) -> Task<void> {
      *out = co_await s.Acquire({}, 10);
      if (out->ok()) s.Release(10);
    }(bytes, &small));
    co_await group.Join();
    EXPECT_EQ(big.code(), StatusCode::kDeadlineExceeded);
    EXPECT_TRUE(small.ok());
    bytes.Release(90);
    EXPECT_EQ(bytes.available(), 100u);
  });
}

}  // namespace
}  // namespace cerulean
