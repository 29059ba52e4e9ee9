#include "runtime/sim/sim_world.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/deadline.h"
#include "runtime/sim/sim_disk.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_network.h"
#include "runtime/sim/sim_random.h"
#include "runtime/sim/sim_test_io.h"
#include "runtime/sim/sim_test_support.h"
#include "runtime/sleep.h"
#include "runtime/spawn.h"

namespace cerulean {
namespace {

TEST(SimRandomTest, SequenceIsPinned) {
  // Pinned so that a change of generator, which would silently change every recorded seed's
  // replay, fails here first.
  SimRandom random(1);
  EXPECT_EQ(random.Next(), 0xb3f2af6d0fc710c5ULL);
  EXPECT_EQ(random.Next(), 0x853b559647364ceaULL);
  EXPECT_EQ(random.Next(), 0x92f89756082a4514ULL);
}

TEST(SimRandomTest, RangesStayInBounds) {
  SimRandom random(SimSeed());
  for (int i = 0; i < 10000; i++) {
    EXPECT_LT(random.Below(7), 7u);
    const double unit = random.Unit();
    EXPECT_GE(unit, 0.0);
    EXPECT_LT(unit, 1.0);
    const Duration between = random.Between(3ns, 5ns);
    EXPECT_GE(between, 3ns);
    EXPECT_LE(between, 5ns);
  }
  EXPECT_EQ(random.Below(1), 0u);
  EXPECT_FALSE(random.Chance(0));
  EXPECT_TRUE(random.Chance(1));
}

TEST(SimRandomTest, SameSeedSameSequence) {
  SimRandom first(42), second(42), other(43);
  bool differs = false;
  for (int i = 0; i < 100; i++) {
    const uint64_t value = first.Next();
    EXPECT_EQ(value, second.Next());
    differs |= value != other.Next();
  }
  EXPECT_TRUE(differs);
}

Task<void> SleepAndRecord(Env& env, Duration duration, int id, std::vector<int>* order,
                          std::vector<TimePoint>* woke_at) {
  Status slept = co_await Sleep(env, duration);
  EXPECT_TRUE(slept.ok()) << slept;
  order->push_back(id);
  woke_at->push_back(env.Now());
}

TEST(SimWorldTest, SleepsWakeInVirtualTimeOrder) {
  SimWorld world(SimSeed());
  SimEnv& env = world.AddNode("a");
  std::vector<int> order;
  std::vector<TimePoint> woke_at;
  Spawn(env, SleepAndRecord(env, 30ms, 3, &order, &woke_at));
  Spawn(env, SleepAndRecord(env, 10ms, 1, &order, &woke_at));
  Spawn(env, SleepAndRecord(env, 20ms, 2, &order, &woke_at));
  Spawn(env, SleepAndRecord(env, 20ms, 4, &order, &woke_at));  // same deadline: arming order
  EXPECT_TRUE(world.RunUntilIdle());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 4, 3}));
  ASSERT_EQ(woke_at.size(), 4u);
  EXPECT_EQ(woke_at[0], TimePoint{} + 10ms);
  EXPECT_EQ(woke_at[1], TimePoint{} + 20ms);
  EXPECT_EQ(woke_at[3], TimePoint{} + 30ms);
  EXPECT_EQ(world.Now(), TimePoint{} + 30ms);
}

TEST(SimWorldTest, AnHourPassesInstantly) {
  SimWorld world(SimSeed());
  SimEnv& env = world.AddNode("a");
  const auto wall_start = std::chrono::steady_clock::now();
  std::optional<Status> slept = RunToCompletion(world, env, Sleep(env, std::chrono::hours(1)));
  ASSERT_TRUE(slept.has_value());
  EXPECT_TRUE(slept->ok());
  EXPECT_EQ(world.Now(), TimePoint{} + std::chrono::hours(1));
  EXPECT_LT(std::chrono::steady_clock::now() - wall_start, std::chrono::seconds(5));
}

TEST(SimWorldTest, RunLimitsStopAtTheLimit) {
  SimWorld world(SimSeed());
  SimEnv& env = world.AddNode("a");
  std::vector<int> order;
  std::vector<TimePoint> woke_at;
  Spawn(env, SleepAndRecord(env, 10s, 1, &order, &woke_at));
  EXPECT_FALSE(world.RunUntilIdle(3s));
  EXPECT_EQ(world.Now(), TimePoint{} + 3s);
  EXPECT_TRUE(order.empty());
  world.RunFor(2s);
  EXPECT_EQ(world.Now(), TimePoint{} + 5s);
  EXPECT_FALSE(world.RunUntil([&] { return !order.empty(); }, 1s));
  EXPECT_EQ(world.Now(), TimePoint{} + 6s);
  EXPECT_TRUE(world.RunUntil([&] { return !order.empty(); }));
  EXPECT_EQ(world.Now(), TimePoint{} + 10s);
  EXPECT_FALSE(world.Step());
}

Task<void> YieldAndRecord(Env& env, int id, std::vector<int>* order) {
  order->push_back(id);
  co_await Yield(env);
  order->push_back(id + 10);
}

TEST(SimWorldTest, ReadyQueueIsFifo) {
  SimWorld world(SimSeed());
  SimEnv& env = world.AddNode("a");
  std::vector<int> order;
  Spawn(env, YieldAndRecord(env, 1, &order));
  Spawn(env, YieldAndRecord(env, 2, &order));
  EXPECT_TRUE(world.RunUntilIdle());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 11, 12}));
  EXPECT_EQ(world.Now(), TimePoint{});
}

TEST(SimWorldTest, DeadlineCancelsASleepInVirtualTime) {
  SimWorld world(SimSeed());
  SimEnv& env = world.AddNode("a");
  auto sleep_with_deadline = [](Env& env) -> Task<Status> {
    Deadline deadline(env, 2s);
    co_return co_await Sleep(env, 1min, deadline.token());
  };
  std::optional<Status> slept = RunToCompletion(world, env, sleep_with_deadline(env));
  ASSERT_TRUE(slept.has_value());
  EXPECT_EQ(slept->code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(world.Now(), TimePoint{} + 2s);
  EXPECT_TRUE(world.RunUntilIdle());
}

TEST(SimWorldTest, TraceLinesCarryTimeAndNode) {
  SimWorld world(7);
  world.AddNode("a");
  world.RunFor(5ns);
  world.Trace("a", "hello");
  EXPECT_NE(world.trace().find("5 a hello\n"), std::string::npos) << world.trace();
}

// --- determinism over a workload with several nodes, timers, connections, disks and faults.

constexpr uint16_t kEchoPort = 7000;
constexpr int kMessagesPerClient = 6;

Task<void> EchoServer(SimEnv& env) {
  Result<std::unique_ptr<Listener>> listener = env.Listen({env.host(), kEchoPort});
  EXPECT_TRUE(listener.ok()) << listener.status();
  if (!listener.ok()) co_return;
  Result<std::unique_ptr<Stream>> accepted = co_await (*listener)->Accept({});
  EXPECT_TRUE(accepted.ok()) << accepted.status();
  if (!accepted.ok()) co_return;
  Stream& stream = **accepted;
  std::vector<char> chunk(1 + env.Random() % 9000);
  while (true) {
    iovec buffer{chunk.data(), chunk.size()};
    Result<size_t> read = co_await stream.Read(std::span<const iovec>(&buffer, 1), {});
    if (!read.ok() || *read == 0) break;
    Status written = co_await WriteString(stream, std::string(chunk.data(), *read));
    if (!written.ok()) break;
  }
}

Task<void> EchoClient(SimEnv& env, std::string server_host) {
  Status created = env.CreateDirectories("/log");
  EXPECT_TRUE(created.ok()) << created;
  Result<std::unique_ptr<File>> log = co_await env.OpenFile("/log/client", {.create = true});
  EXPECT_TRUE(log.ok()) << log.status();
  if (!log.ok()) co_return;
  // Named, not a braced temporary: g++ 12 destroys an aggregate temporary passed by value in a
  // co_await expression twice.
  NetAddress address{server_host, kEchoPort};
  Result<std::unique_ptr<Stream>> connected = co_await env.Connect(address, {});
  EXPECT_TRUE(connected.ok()) << connected.status();
  if (!connected.ok()) co_return;
  Stream& stream = **connected;
  uint64_t log_offset = 0;
  for (int i = 0; i < kMessagesPerClient; i++) {
    Status slept = co_await Sleep(env, Duration(env.Random() % 10'000'000));
    EXPECT_TRUE(slept.ok());
    std::string message(1 + env.Random() % 20000, static_cast<char>('a' + i));
    Status written = co_await WriteString(stream, message);
    EXPECT_TRUE(written.ok()) << written;
    Result<std::string> echoed = co_await ReadExactly(stream, message.size());
    EXPECT_TRUE(echoed.ok() && *echoed == message);
    Status logged = co_await WriteFileString(**log, log_offset, message.substr(0, 100));
    EXPECT_TRUE(logged.ok()) << logged;
    log_offset += 100;
    if (i % 2 == 0) {
      Status synced = co_await (*log)->DataSync();
      EXPECT_TRUE(synced.ok()) << synced;
    }
  }
  stream.Shutdown();
}

std::string RunWorkload(uint64_t seed) {
  SimWorld world(seed);
  const std::vector<std::string> hosts = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  for (const std::string& host : hosts) world.AddNode(host);
  world.network().set_options({.latency_min = 10us,
                               .latency_max = 3ms,
                               .delay_spike_probability = 0.05,
                               .delay_spike = 20ms});
  for (const std::string& host : hosts) Spawn(world.node(host), EchoServer(world.node(host)));
  for (size_t i = 0; i < hosts.size(); i++) {
    SimEnv& env = world.node(hosts[i]);
    Spawn(env, EchoClient(env, hosts[(i + 1) % hosts.size()]));
  }
  EXPECT_TRUE(world.RunUntilIdle());
  for (const std::string& host : hosts) world.disk(host).Crash();
  return world.trace();
}

TEST(SimWorldTest, SameSeedGivesTheSameTrace) {
  const uint64_t seed = SimSeed();
  SIM_SCOPED_SEED(seed);
  const std::string first = RunWorkload(seed);
  const std::string second = RunWorkload(seed);
  EXPECT_EQ(first, second);
  EXPECT_NE(first.find("deliver"), std::string::npos);
  EXPECT_NE(first.find("disk sync"), std::string::npos);
  EXPECT_NE(first.find("fin from"), std::string::npos);
  EXPECT_GT(first.size(), 2000u);
}

TEST(SimWorldTest, DifferentSeedsGiveDifferentTraces) { EXPECT_NE(RunWorkload(1), RunWorkload(2)); }

TEST(SimTestSupportTest, SeedComesFromTheEnvironment) {
  const char* saved = std::getenv(kSimSeedVariable);
  const std::string saved_value = saved == nullptr ? "" : saved;
  ASSERT_EQ(setenv(kSimSeedVariable, "12345", 1), 0);
  EXPECT_EQ(SimSeed(), 12345u);
  EXPECT_EQ(SimSeeds(10), std::vector<uint64_t>{12345});
  EXPECT_NE(SimSeedMessage(12345).find("sim seed=12345 (rerun: CERULEAN_SIM_SEED=12345 "),
            std::string::npos);
  ASSERT_EQ(unsetenv(kSimSeedVariable), 0);
  EXPECT_EQ(SimSeed(99), 99u);
  EXPECT_EQ(SimSeeds(3, 5), (std::vector<uint64_t>{5, 6, 7}));
  if (saved != nullptr) setenv(kSimSeedVariable, saved_value.c_str(), 1);
}

}  // namespace
}  // namespace cerulean
