#include "bench/socket_baselines.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

namespace cerulean::bench {
namespace {

cpu_set_t AffinityOfThisThread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  pthread_getaffinity_np(pthread_self(), sizeof(set), &set);
  return set;
}

// The baselines pin threads of their own: the caller's affinity, which the servers and clients
// a bench starts afterwards inherit, stays as it was (it once stayed pinned to one core, and
// a whole KV bench ran there).
TEST(SocketBaselinesTest, MeasuringLeavesTheCallersAffinityAlone) {
  const cpu_set_t before = AffinityOfThisThread();
  PingPongResult ping = MeasureRawPingPong(64, 10, 200, 0, 1);
  EXPECT_EQ(ping.latencies_us.size(), 200u);
  EXPECT_GT(ping.ops_per_second, 0);
  cpu_set_t after = AffinityOfThisThread();
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
  EXPECT_GT(MeasureRawStream(64 << 10, std::chrono::milliseconds(50), 0, 1), 0);
  after = AffinityOfThisThread();
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
}

}  // namespace
}  // namespace cerulean::bench
