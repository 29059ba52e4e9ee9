// The rpc layer inside the deterministic simulator: a server node and client nodes on a network
// that delays, resets and partitions. Every call must complete or fail with a clean, retryable
// error; nothing may hang; and one seed must replay byte for byte.
#include <gtest/gtest.h>

#include <cstring>

#include "rpc/bench_messages.h"
#include "rpc/bench_service.h"
#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h"
#include "rpc/system_service.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_network.h"
#include "runtime/sim/sim_test_support.h"
#include "runtime/sim/sim_world.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"

namespace cerulean::rpc {
namespace {

constexpr char kServerHost[] = "10.0.0.1";
constexpr uint16_t kServerPort = 7000;
constexpr int kClientCount = 3;
constexpr int kCallsPerClient = 120;

struct Outcomes {
  int ok = 0;
  int unavailable = 0;
  int deadline_exceeded = 0;
  int other = 0;
  int corrupted = 0;
};

// One client's workload: pings and echoes of random sizes, each with a deadline.
Task<void> ClientWorkload(SimWorld& world, Env& env, int client_index, Outcomes* outcomes) {
  RpcClient client(env, {.connections_per_peer = 2, .connect_timeout = std::chrono::milliseconds(300),
                         .reconnect_backoff_min = std::chrono::milliseconds(5),
                         .reconnect_backoff_max = std::chrono::milliseconds(100)});
  RpcChannel channel = client.Channel({kServerHost, kServerPort});
  for (int call = 0; call < kCallsPerClient; call++) {
    const size_t bytes = world.RandomBelow(4) == 0 ? 0 : world.RandomBelow(200'000);
    std::vector<std::byte> payload(bytes);
    for (size_t i = 0; i < bytes; i++) payload[i] = std::byte((i * 131 + call + client_index) & 0xFF);
    iovec piece{payload.data(), payload.size()};
    auto result = co_await channel.Call(bytes == 0 ? kPingMethod : kEchoMethod, {},
                                        bytes == 0 ? std::span<const iovec>() : std::span<const iovec>(&piece, 1),
                                        {.timeout = std::chrono::milliseconds(250)});
    if (result.ok()) {
      outcomes->ok++;
      if (result->payload_bytes != bytes ||
          (bytes > 0 && std::memcmp(result->payload.data(), payload.data(), bytes) != 0)) {
        outcomes->corrupted++;
      }
    } else if (result.status().code() == StatusCode::kUnavailable) {
      outcomes->unavailable++;
    } else if (result.status().code() == StatusCode::kDeadlineExceeded) {
      outcomes->deadline_exceeded++;
    } else {
      ADD_FAILURE() << "unexpected error " << result.status();
      outcomes->other++;
    }
    // Think time, so that faults land between calls as well as during them.
    Status slept = co_await Sleep(env, std::chrono::microseconds(world.RandomBelow(20'000)));
    EXPECT_TRUE(slept.ok());
  }
  co_await client.Close();
}

// Cuts and heals the network between the server and a random client, at random times.
Task<void> PartitionChaos(SimWorld& world, Env& env, const bool* stop) {
  while (!*stop) {
    Status slept = co_await Sleep(env, std::chrono::milliseconds(50 + world.RandomBelow(400)));
    EXPECT_TRUE(slept.ok());
    const std::string client = "10.0.1." + std::to_string(world.RandomBelow(kClientCount));
    world.network().Partition(kServerHost, client);
    slept = co_await Sleep(env, std::chrono::milliseconds(world.RandomBelow(600)));
    EXPECT_TRUE(slept.ok());
    world.network().Heal(kServerHost, client);
  }
}

struct RunSummary {
  Outcomes outcomes;
  std::string trace;
  bool finished = false;
};

RunSummary RunWorkload(uint64_t seed, bool chaos) {
  SimWorld world(seed);
  SimEnv& server_env = world.AddNode(kServerHost);
  std::vector<SimEnv*> client_envs;
  for (int i = 0; i < kClientCount; i++) client_envs.push_back(&world.AddNode("10.0.1." + std::to_string(i)));
  if (chaos) {
    world.network().set_options({.latency_min = std::chrono::microseconds(20),
                                 .latency_max = std::chrono::milliseconds(3),
                                 .reset_probability = 0.01,
                                 .delay_spike_probability = 0.02,
                                 .delay_spike = std::chrono::milliseconds(150)});
  }

  ServiceRegistry registry;
  RegisterSystemService(registry, {.role = "sim"});
  RegisterBenchService(registry);
  RpcServer server(server_env, registry, {.requests_inflight_per_connection_max = 8});
  CHECK(server.Listen({kServerHost, kServerPort}).ok());
  TaskGroup server_tasks(server_env);
  server_tasks.Spawn(server.Serve());

  RunSummary summary;
  int clients_done = 0;
  bool stop_chaos = false;
  TaskGroup chaos_tasks(server_env);
  if (chaos) chaos_tasks.Spawn(PartitionChaos(world, server_env, &stop_chaos));
  for (int i = 0; i < kClientCount; i++) {
    Spawn(*client_envs[i], [](SimWorld& w, Env& e, int index, Outcomes* o, int* done) -> Task<void> {
      co_await ClientWorkload(w, e, index, o);
      (*done)++;
    }(world, *client_envs[i], i, &summary.outcomes, &clients_done));
  }
  // Generous virtual budget: a hang shows up as the limit being hit, not as a stuck test.
  summary.finished = world.RunUntil([&] { return clients_done == kClientCount; }, std::chrono::minutes(10));
  stop_chaos = true;
  world.network().HealAll();
  auto stopped = RunToCompletion(world, server_env, [](RpcServer& s, TaskGroup& a, TaskGroup& b) -> Task<bool> {
    co_await s.Shutdown();
    co_await a.Join();
    co_await b.Join();
    co_return true;
  }(server, server_tasks, chaos_tasks), std::chrono::minutes(1));
  CHECK(stopped.has_value()) << "server did not stop; " << SimSeedMessage(seed);
  world.RunUntilIdle(std::chrono::minutes(1));
  summary.trace = world.trace();
  return summary;
}

TEST(RpcSimTest, OneSeedReplaysByteForByte) {
  const uint64_t seed = SimSeed();
  SIM_SCOPED_SEED(seed);
  RunSummary first = RunWorkload(seed, /*chaos=*/true);
  RunSummary second = RunWorkload(seed, /*chaos=*/true);
  ASSERT_TRUE(first.finished);
  EXPECT_GT(first.trace.size(), 10'000u);
  EXPECT_TRUE(first.trace == second.trace) << "the same seed produced different traces";
  RunSummary other = RunWorkload(seed + 1, /*chaos=*/true);
  EXPECT_FALSE(first.trace == other.trace);
}

TEST(RpcSimTest, CleanNetworkEveryCallSucceeds) {
  const uint64_t seed = SimSeed();
  SIM_SCOPED_SEED(seed);
  RunSummary run = RunWorkload(seed, /*chaos=*/false);
  ASSERT_TRUE(run.finished);
  EXPECT_EQ(run.outcomes.ok, kClientCount * kCallsPerClient);
  EXPECT_EQ(run.outcomes.corrupted, 0);
}

TEST(RpcSimTest, ResetsDelaysAndPartitionsNeverHangAndNeverCorrupt) {
  Outcomes total;
  for (uint64_t seed : SimSeeds(8)) {
    SIM_SCOPED_SEED(seed);
    RunSummary run = RunWorkload(seed, /*chaos=*/true);
    ASSERT_TRUE(run.finished) << "a call hung";
    const Outcomes& o = run.outcomes;
    EXPECT_EQ(o.ok + o.unavailable + o.deadline_exceeded + o.other, kClientCount * kCallsPerClient);
    EXPECT_EQ(o.other, 0);
    EXPECT_EQ(o.corrupted, 0);
    total.ok += o.ok;
    total.unavailable += o.unavailable;
    total.deadline_exceeded += o.deadline_exceeded;
  }
  // The faults were real: every kind of outcome happened, and most calls still got through.
  EXPECT_GT(total.unavailable, 0);
  EXPECT_GT(total.deadline_exceeded, 0);
  EXPECT_GT(total.ok, total.unavailable + total.deadline_exceeded);
}

// A call's own timeout bounds the connect too, and Close() during a dial waits for it.
TEST(RpcSimTest, DialHonorsTheCallDeadlineAndClose) {
  const uint64_t seed = SimSeed();
  SIM_SCOPED_SEED(seed);
  SimWorld world(seed);
  SimEnv& client_env = world.AddNode("10.0.1.0");
  world.AddNode(kServerHost);
  world.network().Partition(kServerHost, "10.0.1.0");  // connects hang
  auto client = std::make_unique<RpcClient>(client_env, RpcClientOptions{.connect_timeout = std::chrono::seconds(5)});
  auto first = RunToCompletion(world, client_env, [](Env& env, RpcClient& c) -> Task<std::pair<Status, Duration>> {
    const TimePoint start = env.Now();
    auto r = co_await c.Call({kServerHost, kServerPort}, kPingMethod, {}, {}, {.timeout = std::chrono::milliseconds(50)});
    co_return std::pair{r.status(), env.Now() - start};
  }(client_env, *client));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->first.code(), StatusCode::kDeadlineExceeded) << first->first;
  EXPECT_LT(first->second, Duration(std::chrono::milliseconds(100)));

  // A long call is dialing when the client closes: Close() waits for the dial to give up.
  Status long_call;
  bool long_done = false;
  Spawn(client_env, [](RpcClient& c, Status* out, bool* done) -> Task<void> {
    auto r = co_await c.Call({kServerHost, kServerPort}, kPingMethod, {}, {}, {.timeout = std::chrono::seconds(60)});
    *out = r.status();
    *done = true;
  }(*client, &long_call, &long_done));
  world.RunFor(std::chrono::milliseconds(10));
  auto closed = RunToCompletion(world, client_env, [](RpcClient& c) -> Task<bool> {
    co_await c.Close();
    co_return true;
  }(*client), std::chrono::seconds(1));
  ASSERT_TRUE(closed.has_value()) << "Close() hung on a dial";
  world.RunUntil([&] { return long_done; }, std::chrono::seconds(1));
  EXPECT_TRUE(long_done);
  EXPECT_FALSE(long_call.ok());
  client.reset();
  world.RunUntilIdle(std::chrono::minutes(1));
}

}  // namespace
}  // namespace cerulean::rpc
