#include "runtime/timer_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace cerulean {
namespace {

TEST(TimerQueueTest, PopsInDeadlineThenArmingOrder) {
  TimerQueue queue;
  std::vector<Timer> timers(200);
  std::mt19937_64 random(7);
  for (size_t i = 0; i < timers.size(); i++) {
    timers[i].deadline = TimePoint{static_cast<int64_t>(random() % 50)};
    timers[i].fire = [](Timer*) {};
    timers[i].context = reinterpret_cast<void*>(i);
    queue.Arm(timers[i]);
  }
  // Disarm a third of them at random.
  for (size_t i = 0; i < timers.size(); i += 3) queue.Disarm(timers[i]);
  std::vector<std::pair<int64_t, size_t>> popped;
  while (Timer* t = queue.PopExpired(TimePoint{1000})) {
    popped.push_back({t->deadline.nanos, reinterpret_cast<size_t>(t->context)});
    EXPECT_FALSE(t->armed());
  }
  EXPECT_EQ(popped.size(), timers.size() - (timers.size() + 2) / 3);
  EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
  EXPECT_TRUE(queue.empty());
}

TEST(TimerQueueTest, NotExpiredStaysQueued) {
  TimerQueue queue;
  Timer timer;
  timer.deadline = TimePoint{100};
  timer.fire = [](Timer*) {};
  queue.Arm(timer);
  EXPECT_EQ(queue.PopExpired(TimePoint{99}), nullptr);
  EXPECT_EQ(queue.NextDeadline(), TimePoint{100});
  EXPECT_EQ(queue.PopExpired(TimePoint{100}), &timer);
}

}  // namespace
}  // namespace cerulean
