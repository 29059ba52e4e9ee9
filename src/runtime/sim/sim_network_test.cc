#include "runtime/sim/sim_network.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/deadline.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_test_io.h"
#include "runtime/sim/sim_test_support.h"
#include "runtime/sim/sim_world.h"
#include "runtime/sleep.h"
#include "runtime/spawn.h"

namespace cerulean {
namespace {

constexpr uint16_t kPort = 9000;

// Two nodes, "a" (client) and "b" (server, listening on kPort), and the connection between them.
class SimNetworkTest : public ::testing::Test {
 protected:
  SimNetworkTest()
      : seed_(SimSeed()), world_(seed_), a_(world_.AddNode("a")), b_(world_.AddNode("b")) {}

  void Listen() {
    Result<std::unique_ptr<Listener>> listener = b_.Listen({"b", kPort});
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = std::move(*listener);
  }

  // Connects a to b and accepts on b.
  void Connect() {
    ASSERT_NO_FATAL_FAILURE(Listen());
    std::optional<Result<std::unique_ptr<Stream>>> client =
        RunToCompletion(world_, a_, a_.Connect({"b", kPort}, {}));
    ASSERT_TRUE(client.has_value() && client->ok());
    client_ = std::move(**client);
    std::optional<Result<std::unique_ptr<Stream>>> server =
        RunToCompletion(world_, b_, listener_->Accept({}));
    ASSERT_TRUE(server.has_value() && server->ok());
    server_ = std::move(**server);
  }

  uint64_t seed_;
  SimWorld world_;
  SimEnv& a_;
  SimEnv& b_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<Stream> client_;
  std::unique_ptr<Stream> server_;
};

Task<void> Echo(Stream& stream) {
  while (true) {
    char chunk[1000];
    iovec buffer{chunk, sizeof(chunk)};
    Result<size_t> read = co_await stream.Read(std::span<const iovec>(&buffer, 1), {});
    if (!read.ok() || *read == 0) co_return;
    Status written = co_await WriteString(stream, std::string(chunk, *read));
    if (!written.ok()) co_return;
  }
}

TEST_F(SimNetworkTest, Echo) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_EQ(client_->peer(), "b:9000");
  EXPECT_EQ(server_->peer(), fmt::format("a:{}", SimNetwork::kEphemeralPortFirst));
  Spawn(b_, Echo(*server_));
  const std::string message(5000, 'x');
  std::optional<Status> written = RunToCompletion(world_, a_, WriteString(*client_, message));
  ASSERT_TRUE(written.has_value() && written->ok());
  std::optional<Result<std::string>> echoed =
      RunToCompletion(world_, a_, ReadExactly(*client_, message.size()));
  ASSERT_TRUE(echoed.has_value() && echoed->ok());
  EXPECT_EQ(**echoed, message);
  client_->Shutdown();
  EXPECT_TRUE(world_.RunUntilIdle());
}

TEST_F(SimNetworkTest, ShutdownGivesEndOfStreamAfterTheData) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Connect());
  std::optional<Status> written = RunToCompletion(world_, a_, WriteString(*client_, "last words"));
  ASSERT_TRUE(written.has_value() && written->ok());
  client_->Shutdown();
  std::optional<Result<std::string>> read = RunToCompletion(world_, b_, ReadToEnd(*server_));
  ASSERT_TRUE(read.has_value() && read->ok()) << read->status();
  EXPECT_EQ(**read, "last words");
  std::optional<Status> after = RunToCompletion(world_, a_, WriteString(*client_, "more"));
  EXPECT_EQ(after->code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(world_.RunUntilIdle());
}

Task<void> SendNumbered(Stream& stream, int count) {
  for (int i = 0; i < count; i++) {
    Status written = co_await WriteString(stream, fmt::format("{:08d}", i));
    EXPECT_TRUE(written.ok()) << written;
  }
}

TEST_F(SimNetworkTest, OrderSurvivesRandomLatency) {
  for (uint64_t seed : SimSeeds(20, seed_)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    SimEnv& a = world.AddNode("a");
    SimEnv& b = world.AddNode("b");
    world.network().set_options({.latency_min = 1us,
                                 .latency_max = 10ms,
                                 .delay_spike_probability = 0.1,
                                 .delay_spike = 50ms});
    Result<std::unique_ptr<Listener>> listener = b.Listen({"0.0.0.0", kPort});
    ASSERT_TRUE(listener.ok());
    auto client = RunToCompletion(world, a, a.Connect({"b", kPort}, {}));
    ASSERT_TRUE(client.has_value() && client->ok());
    auto server = RunToCompletion(world, b, (*listener)->Accept({}));
    ASSERT_TRUE(server.has_value() && server->ok());
    constexpr int kMessages = 500;
    Spawn(a, SendNumbered(***client, kMessages));
    auto received = RunToCompletion(world, b, ReadExactly(***server, kMessages * 8));
    ASSERT_TRUE(received.has_value() && received->ok());
    for (int i = 0; i < kMessages; i++) {
      ASSERT_EQ((**received).substr(i * 8, 8), fmt::format("{:08d}", i)) << "message " << i;
    }
    EXPECT_TRUE(world.RunUntilIdle());
  }
}

TEST_F(SimNetworkTest, WriterBlocksWhileTheReaderDoesNotRead) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Connect());
  const std::string big(4 * SimNetwork::kUnreadBytesMax, 'z');
  bool write_done = false;
  auto write_then_flag = [](Stream& stream, std::string bytes, bool* done) -> Task<void> {
    Status written = co_await WriteString(stream, std::move(bytes));
    EXPECT_TRUE(written.ok()) << written;
    *done = true;
  };
  Spawn(a_, write_then_flag(*client_, big, &write_done));
  // The server reads nothing: the writer fills the window and waits, however long we run.
  world_.RunFor(10s);
  EXPECT_FALSE(write_done);
  // Idle: the blocked writer waits on the reader, not on time.
  EXPECT_TRUE(world_.RunUntilIdle());
  EXPECT_FALSE(write_done);
  // Reading drains the window and lets the writer finish.
  auto read = RunToCompletion(world_, b_, ReadExactly(*server_, big.size()));
  ASSERT_TRUE(read.has_value() && read->ok());
  EXPECT_EQ(**read, big);
  EXPECT_TRUE(world_.RunUntilIdle());
  EXPECT_TRUE(write_done);
}

Task<void> PingPong(SimEnv& env, Stream& stream, int rounds, Status* outcome, bool* done) {
  for (int i = 0; i < rounds; i++) {
    Status written = co_await WriteString(stream, "ping");
    if (!written.ok()) {
      *outcome = written;
      break;
    }
    Result<std::string> pong = co_await ReadExactly(stream, 4);
    if (!pong.ok()) {
      *outcome = pong.status();
      break;
    }
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
  }
  *done = true;
}

TEST_F(SimNetworkTest, InjectedResetsFailOperationsAndNothingHangs) {
  int resets = 0;
  for (uint64_t seed : SimSeeds(20, seed_)) {
    SIM_SCOPED_SEED(seed);
    SimWorld world(seed);
    SimEnv& a = world.AddNode("a");
    SimEnv& b = world.AddNode("b");
    world.network().set_options({.reset_probability = 0.05});
    Result<std::unique_ptr<Listener>> listener = b.Listen({"b", kPort});
    ASSERT_TRUE(listener.ok());
    auto client = RunToCompletion(world, a, a.Connect({"b", kPort}, {}));
    ASSERT_TRUE(client.has_value() && client->ok());
    auto server = RunToCompletion(world, b, (*listener)->Accept({}));
    ASSERT_TRUE(server.has_value() && server->ok());
    Spawn(b, Echo(***server));
    Status outcome;
    bool done = false;
    Spawn(a, PingPong(a, ***client, 1000, &outcome, &done));
    EXPECT_TRUE(world.RunUntilIdle());
    EXPECT_TRUE(done);
    if (!outcome.ok()) {
      EXPECT_EQ(outcome.code(), StatusCode::kUnavailable) << outcome;
      EXPECT_NE(outcome.message().find("connection reset"), std::string::npos) << outcome;
      resets++;
    }
  }
  EXPECT_GT(resets, 0);
}

TEST_F(SimNetworkTest, PartitionHoldsBytesUntilHealed) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Connect());
  world_.network().Partition("a", "b");
  EXPECT_TRUE(world_.network().Partitioned("b", "a"));
  bool read_done = false;
  std::string received;
  auto read_then_flag = [](Stream& stream, std::string* into, bool* done) -> Task<void> {
    Result<std::string> read = co_await ReadExactly(stream, 5);
    EXPECT_TRUE(read.ok()) << read.status();
    if (read.ok()) *into = *read;
    *done = true;
  };
  Spawn(b_, read_then_flag(*server_, &received, &read_done));
  auto written = RunToCompletion(world_, a_, WriteString(*client_, "hello"));
  ASSERT_TRUE(written.has_value() && written->ok());
  world_.RunFor(1min);
  EXPECT_FALSE(read_done);
  EXPECT_NE(world_.trace().find("partitioned"), std::string::npos);
  world_.network().Heal("a", "b");
  EXPECT_TRUE(world_.RunUntilIdle());
  EXPECT_TRUE(read_done);
  EXPECT_EQ(received, "hello");
}

TEST_F(SimNetworkTest, ConnectAcrossAPartitionWaitsForItsDeadline) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Listen());
  world_.network().Isolate("b");
  auto connect_with_deadline = [](SimEnv& env) -> Task<Status> {
    Deadline deadline(env, 5s);
    // Named, not a braced temporary: g++ 12 destroys an aggregate temporary passed by value in a
    // co_await expression twice.
    NetAddress address{"b", kPort};
    Result<std::unique_ptr<Stream>> connected = co_await env.Connect(address, deadline.token());
    co_return connected.status();
  };
  auto status = RunToCompletion(world_, a_, connect_with_deadline(a_));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), StatusCode::kDeadlineExceeded) << *status;
  EXPECT_EQ(world_.Now(), TimePoint{} + 5s);
  // Healed, the same connect goes through.
  world_.network().HealAll();
  auto connected = RunToCompletion(world_, a_, a_.Connect({"b", kPort}, {}));
  ASSERT_TRUE(connected.has_value());
  EXPECT_TRUE(connected->ok()) << connected->status();
  EXPECT_TRUE(world_.RunUntilIdle());
}

TEST_F(SimNetworkTest, ConnectWaitingOnAPartitionProceedsWhenHealed) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Listen());
  world_.network().Partition("a", "b");
  std::optional<Result<std::unique_ptr<Stream>>> connected;
  auto connect_into = [](SimEnv& env,
                         std::optional<Result<std::unique_ptr<Stream>>>* into) -> Task<void> {
    NetAddress address{"b", kPort};  // g++ 12: no aggregate temporaries in co_await expressions
    into->emplace(co_await env.Connect(address, {}));
  };
  Spawn(a_, connect_into(a_, &connected));
  world_.RunFor(1s);
  EXPECT_FALSE(connected.has_value());
  world_.network().Heal("a", "b");
  EXPECT_TRUE(world_.RunUntilIdle());
  ASSERT_TRUE(connected.has_value());
  EXPECT_TRUE(connected->ok()) << connected->status();
}

TEST_F(SimNetworkTest, KillNodeFailsPendingOperations) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Connect());
  std::optional<Result<std::string>> client_read;
  std::optional<Result<std::unique_ptr<Stream>>> accepted;
  auto read_into = [](Stream& stream, std::optional<Result<std::string>>* into) -> Task<void> {
    into->emplace(co_await ReadExactly(stream, 1));
  };
  auto accept_into = [](Listener& listener,
                        std::optional<Result<std::unique_ptr<Stream>>>* into) -> Task<void> {
    into->emplace(co_await listener.Accept({}));
  };
  Spawn(a_, read_into(*client_, &client_read));
  Spawn(b_, accept_into(*listener_, &accepted));
  world_.RunFor(1s);
  EXPECT_FALSE(client_read.has_value());
  EXPECT_FALSE(accepted.has_value());

  world_.network().KillNode("b");
  EXPECT_TRUE(world_.RunUntilIdle());
  ASSERT_TRUE(client_read.has_value() && accepted.has_value());
  EXPECT_EQ(client_read->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(accepted->status().code(), StatusCode::kUnavailable);
  auto written = RunToCompletion(world_, b_, WriteString(*server_, "from the dead"));
  EXPECT_FALSE(written->ok());
  auto refused = RunToCompletion(world_, a_, a_.Connect({"b", kPort}, {}));
  EXPECT_EQ(refused->status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(b_.Listen({"b", kPort}).ok());

  // Revived, it can listen again.
  world_.network().ReviveNode("b");
  listener_.reset();
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_TRUE(world_.RunUntilIdle());
}

TEST_F(SimNetworkTest, CancellingAPendingReadBreaksTheStream) {
  SIM_SCOPED_SEED(seed_);
  ASSERT_NO_FATAL_FAILURE(Connect());
  CancelSource cancel;
  std::optional<Result<std::string>> read;
  auto read_into = [](Stream& stream, CancelToken token,
                      std::optional<Result<std::string>>* into) -> Task<void> {
    into->emplace(co_await ReadExactly(stream, 1, token));
  };
  Spawn(a_, read_into(*client_, cancel.token(), &read));
  world_.RunFor(1s);
  EXPECT_FALSE(read.has_value());
  cancel.Cancel(Status::Cancelled("test gave up"));
  EXPECT_TRUE(world_.RunUntilIdle());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->status().code(), StatusCode::kCancelled);
  auto written = RunToCompletion(world_, a_, WriteString(*client_, "x"));
  EXPECT_EQ(written->code(), StatusCode::kFailedPrecondition);
}

TEST_F(SimNetworkTest, ConnectWithNothingListeningIsRefused) {
  SIM_SCOPED_SEED(seed_);
  auto refused = RunToCompletion(world_, a_, a_.Connect({"b", kPort}, {}));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused->status().message().find("connection refused"), std::string::npos);
}

TEST_F(SimNetworkTest, ListenChecksItsAddress) {
  Result<std::unique_ptr<Listener>> ephemeral = a_.Listen({"127.0.0.1", 0});
  ASSERT_TRUE(ephemeral.ok());
  EXPECT_EQ((*ephemeral)->address(), (NetAddress{"a", SimNetwork::kEphemeralPortFirst}));
  EXPECT_EQ(a_.Listen({"b", kPort}).status().code(), StatusCode::kInvalidArgument);
  Result<std::unique_ptr<Listener>> first = a_.Listen({"a", kPort});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(a_.Listen({"a", kPort}).status().code(), StatusCode::kAlreadyExists);
  (*first)->Close();
  EXPECT_TRUE(a_.Listen({"a", kPort}).ok());
}

}  // namespace
}  // namespace cerulean
