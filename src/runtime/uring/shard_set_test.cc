#include "runtime/uring/shard_set.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "runtime/sleep.h"
#include "runtime/when_all.h"

namespace cerulean {
namespace {

TEST(ShardSetTest, CrossShardCallRunsOnTargetAndReturnsToCaller) {
  ShardSet shards({.shard_count = 2});
  std::promise<std::vector<size_t>> observed;
  shards.Post(0, [&](Env&) -> Task<void> {
    const size_t before = ShardSet::CurrentShard();
    const size_t ran_on = co_await shards.Call(1, [](Env&) -> Task<size_t> {
      co_return ShardSet::CurrentShard();
    });
    observed.set_value({before, ran_on, ShardSet::CurrentShard()});
  });
  EXPECT_EQ(observed.get_future().get(), (std::vector<size_t>{0, 1, 0}));
}

// Inboxes of 8 slots and 2,000 calls in flight each way: the bound must push back, not lose or
// deadlock calls. Loops that poll before sleeping must see the same messages and timers.
class ShardSetCallsTest : public ::testing::TestWithParam<Duration> {};

TEST_P(ShardSetCallsTest, ManyConcurrentCallsBothWaysPastTheInboxBound) {
  ShardSet shards({.shard_count = 2, .loop = {.inbox_capacity = 8, .poll_before_sleep = GetParam()}});
  std::atomic<int> finished{0};
  std::promise<void> done;
  for (size_t origin = 0; origin < 2; origin++) {
    shards.Post(origin, [&, origin](Env&) -> Task<void> {
      std::vector<Task<int>> calls;
      for (int i = 0; i < 2000; i++) {
        calls.push_back(shards.Call(1 - origin, [i](Env& env) -> Task<int> {
          if (i % 100 == 0) {
            Status slept = co_await Sleep(env, 1ms);
            EXPECT_TRUE(slept.ok());
          }
          co_return i;
        }));
      }
      std::vector<int> results = co_await WhenAll(std::move(calls));
      long sum = 0;
      for (int r : results) sum += r;
      EXPECT_EQ(sum, 1999L * 2000 / 2);
      if (finished.fetch_add(1) == 1) done.set_value();
    });
  }
  done.get_future().wait();
  EXPECT_EQ(finished.load(), 2);
}

INSTANTIATE_TEST_SUITE_P(SleepAtOnceOrPollFirst, ShardSetCallsTest,
                         ::testing::Values(Duration::zero(), std::chrono::microseconds(200)));

}  // namespace
}  // namespace cerulean
