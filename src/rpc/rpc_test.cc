// The rpc layer over real loopback TCP on one io_uring loop: a server and its clients in one
// thread, plus raw sockets that misbehave on purpose.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <numeric>

#include "base/crc32c.h"
#include "base/metrics.h"
#include "rpc/bench_messages.h"
#include "rpc/bench_service.h"
#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h"
#include "rpc/system_messages.h"
#include "rpc/system_service.h"
#include "runtime/deadline.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"

namespace cerulean::rpc {
namespace {

using cerulean::testing::RunOnLoop;

constexpr uint32_t kSlowMethod = MethodId(100, 1);   // sleeps for the ms in its message, honoring cancel
constexpr uint32_t kFailMethod = MethodId(100, 2);   // fails with PermissionDenied
constexpr uint32_t kEchoMessageMethod = MethodId(100, 3);  // answers with its request's control message

struct SlowHandlerLog {
  int started = 0;
  int cancelled = 0;
  int finished = 0;
  int inflight = 0;
  int inflight_max = 0;
};

ServiceRegistry MakeRegistry(SlowHandlerLog* log) {
  ServiceRegistry registry;
  RegisterSystemService(registry, {.role = "test", .version = "0.1.0", .build = "test-build"});
  RegisterBenchService(registry);
  registry.Register(kSlowMethod, "test.slow", [log](RpcContext& context) -> Task<Status> {
    WireReader reader(context.request_message.span());
    const uint64_t milliseconds = reader.U64().value();
    log->started++;
    log->inflight_max = std::max(log->inflight_max, ++log->inflight);
    Status slept = co_await Sleep(*context.env, std::chrono::milliseconds(milliseconds), context.cancel);
    log->inflight--;
    if (!slept.ok()) {
      log->cancelled++;
      co_return slept;
    }
    log->finished++;
    co_return Status::Ok();
  });
  registry.Register(kEchoMessageMethod, "test.echo_message", [](RpcContext& context) -> Task<Status> {
    const auto message = context.request_message.span();
    context.response_message.Append(message.data(), message.size());
    co_return Status::Ok();
  });
  registry.Register(kFailMethod, "test.fail", [](RpcContext&) -> Task<Status> {
    co_return Status::PermissionDenied("no entry for you");
  });
  return registry;
}

// Polls `condition` every millisecond for up to 10 s; false if it never held.
Task<bool> Eventually(Env& env, std::function<bool()> condition) {
  for (int i = 0; i < 10'000; i++) {
    if (condition()) co_return true;
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
  }
  co_return condition();
}

MessageBuffer U64Message(uint64_t value) {
  MessageBuffer buffer;
  WireWriter(buffer).U64(value);
  return buffer;
}

// A server serving on a free loopback port for the duration of a test body.
struct TestServer {
  TestServer(Env& env, const ServiceRegistry& registry, RpcServerOptions options = {})
      : server(env, registry, options), group(env) {
    Status listening = server.Listen({"127.0.0.1", 0});
    CHECK(listening.ok()) << listening;
    group.Spawn(server.Serve());
  }
  Task<void> Stop() {
    co_await server.Shutdown();
    co_await group.Join();
  }
  NetAddress address() { return server.address(); }
  RpcServer server;
  TaskGroup group;
};

// Most tests run twice: over the socket, and as local calls (a client on the server's own loop,
// local_calls.h), which must keep every rpc semantic: payloads into the caller's buffers or
// layouts, errors with their codes, deadlines, cancellation, draining. Tests of the socket
// itself (frames, connections, back pressure) turn local calls off.
TEST(RpcTest, HealthAndVersion) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    EXPECT_EQ(client.CallsLocally(server.address()), local);
    auto health = co_await client.Call(server.address(), kHealthMethod, {});
    EXPECT_TRUE(health.ok()) << health.status();
    auto decoded = DecodeHealthResponse(health->message.span());
    EXPECT_TRUE(decoded->serving);
    EXPECT_EQ(decoded->role, "test");
    auto version = co_await client.Call(server.address(), kVersionMethod, {});
    auto version_decoded = DecodeVersionResponse(version->message.span());
    EXPECT_EQ(version_decoded->version, "0.1.0");
    EXPECT_EQ(version_decoded->protocol_version, kProtocolVersion);
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

TEST(RpcTest, ScatterGatherPayloadIntoCallerBufferAndIntoPool) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    std::vector<std::byte> data(3 << 20);
    for (size_t i = 0; i < data.size(); i++) data[i] = std::byte(i * 7 + (i >> 12));
    // Three pieces, gathered into one frame.
    iovec pieces[] = {{data.data(), 1000}, {data.data() + 1000, (1 << 20) - 1000}, {data.data() + (1 << 20), 2 << 20}};
    std::vector<std::byte> into(4 << 20);
    auto echoed = co_await client.Call(server.address(), kEchoMethod, {}, pieces,
                                       {.response_payload = into});
    EXPECT_TRUE(echoed.ok()) << echoed.status();
    EXPECT_EQ(echoed->payload_bytes, data.size());
    EXPECT_TRUE(echoed->payload.empty());  // it went to the caller's buffer
    EXPECT_EQ(std::memcmp(into.data(), data.data(), data.size()), 0);

    auto pooled = co_await client.Call(server.address(), kEchoMethod, {}, pieces);
    EXPECT_EQ(pooled->payload.size(), data.size());
    EXPECT_EQ(std::memcmp(pooled->payload.data(), data.data(), data.size()), 0);

    // A caller buffer that is too small: a clean OutOfRange, and the connection stays usable.
    std::vector<std::byte> small(100);
    auto too_big = co_await client.Call(server.address(), kEchoMethod, {}, pieces, {.response_payload = small});
    EXPECT_EQ(too_big.status().code(), StatusCode::kOutOfRange) << too_big.status();
    auto after = co_await client.Call(server.address(), kPingMethod, {});
    EXPECT_TRUE(after.ok()) << after.status();
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

// A layout decided from the response: the payload scattered over many small buffers (empty ones
// among them), back to back calls on one connection; a layout that does not add up falls back
// to the pooled buffer.
TEST(RpcTest, ResponsePayloadScatteredOverALayout) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    std::vector<std::byte> data((2 << 20) + 12345);
    for (size_t i = 0; i < data.size(); i++) data[i] = std::byte(i * 13 + (i >> 10));
    iovec whole{data.data(), data.size()};
    for (size_t part_bytes : {size_t{4096}, size_t{777}, size_t{32 << 10}}) {
      std::vector<std::byte> into(data.size(), std::byte{0});
      size_t laid_out_for = 0;
      CallOptions options;
      options.response_payload_layout = [&](std::span<const std::byte>, size_t payload_bytes) {
        laid_out_for = payload_bytes;
        std::vector<iovec> parts;
        for (size_t at = 0; at < payload_bytes; at += part_bytes) {
          parts.push_back({into.data() + at, std::min(part_bytes, payload_bytes - at)});
          if (at % (5 * part_bytes) == 0) parts.push_back({into.data(), 0});
        }
        return parts;
      };
      auto echoed = co_await client.Call(server.address(), kEchoMethod, {}, std::span(&whole, 1), std::move(options));
      EXPECT_TRUE(echoed.ok()) << echoed.status();
      EXPECT_EQ(laid_out_for, data.size());
      EXPECT_TRUE(echoed->payload.empty()) << part_bytes;
      EXPECT_EQ(std::memcmp(into.data(), data.data(), data.size()), 0) << part_bytes;
    }
    CallOptions short_layout;
    std::vector<std::byte> small(100);
    short_layout.response_payload_layout = [&](std::span<const std::byte>, size_t) {
      return std::vector<iovec>{{small.data(), small.size()}};
    };
    auto pooled = co_await client.Call(server.address(), kEchoMethod, {}, std::span(&whole, 1), std::move(short_layout));
    EXPECT_TRUE(pooled.ok()) << pooled.status();
    EXPECT_EQ(pooled->payload.size(), data.size());
    EXPECT_EQ(std::memcmp(pooled->payload.data(), data.data(), data.size()), 0);
    auto after = co_await client.Call(server.address(), kPingMethod, {});
    EXPECT_TRUE(after.ok()) << after.status();
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

// Control messages larger than the receive buffer (a long listing) go both ways, between
// ordinary calls on the same connection, with a payload behind them.
TEST(RpcTest, LargeControlMessagesBothWays) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    for (size_t size : {size_t{1000}, size_t{200'000}, size_t{3'000'000}, size_t{10}}) {
      std::vector<std::byte> message(size);
      for (size_t i = 0; i < size; i++) message[i] = std::byte(i * 31 + size);
      auto echoed = co_await client.Call(server.address(), kEchoMessageMethod, message);
      EXPECT_TRUE(echoed.ok()) << size << ": " << echoed.status();
      if (!echoed.ok()) continue;
      EXPECT_EQ(echoed->message.span().size(), size);
      EXPECT_EQ(std::memcmp(echoed->message.span().data(), message.data(), size), 0);
      std::vector<std::byte> payload(5000, std::byte(7));
      iovec piece{payload.data(), payload.size()};
      auto with_payload = co_await client.Call(server.address(), kEchoMethod, message, {&piece, 1});
      EXPECT_TRUE(with_payload.ok()) << with_payload.status();
      EXPECT_EQ(with_payload->payload.size(), payload.size());
    }
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

TEST(RpcTest, ManyCallsInFlightOverPooledConnections) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.connections_per_peer = 3, .local_calls = false});
    RpcChannel channel = client.Channel(server.address());
    std::vector<Task<Result<CallResult>>> calls;
    MessageBuffer one_ms = U64Message(1);
    for (int i = 0; i < 600; i++) calls.push_back(channel.Call(i % 2 ? kPingMethod : kSlowMethod, i % 2 ? std::span<const std::byte>() : one_ms.span()));
    auto results = co_await WhenAll(std::move(calls));
    for (auto& result : results) EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(server.server.connection_count(), 3u);
    EXPECT_GT(log.inflight_max, 1);  // the slow calls overlapped
    co_await client.Close();
    co_await server.Stop();
  });
}

TEST(RpcTest, ErrorsTravelWithCodeAndMessage) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    auto failed = co_await client.Call(server.address(), kFailMethod, {});
    EXPECT_EQ(failed.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(failed.status().message(), "no entry for you");
    auto unknown = co_await client.Call(server.address(), MethodId(77, 7), {});
    EXPECT_EQ(unknown.status().code(), StatusCode::kUnimplemented);
    // Bad control fields for a method are the handler's clear error, not a crash.
    MessageBuffer junk = U64Message(5);
    auto health = co_await client.Call(server.address(), kHealthMethod, junk.span());
    EXPECT_EQ(health.status().code(), StatusCode::kInvalidArgument);
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

TEST(RpcTest, DeadlineEndsTheCallAndTheServerSideWork) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    MessageBuffer ten_seconds = U64Message(10'000);
    const TimePoint start = env.Now();
    auto slow = co_await client.Call(server.address(), kSlowMethod, ten_seconds.span(), {}, {.timeout = 30ms});
    EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded) << slow.status();
    EXPECT_LT(env.Now() - start, Duration(2s));
    // The server's handler was cancelled too (cancel frame or its own copy of the deadline).
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.cancelled == 0); }));
    EXPECT_EQ(log.finished, 0);
    auto after = co_await client.Call(server.address(), kPingMethod, {});
    EXPECT_TRUE(after.ok()) << after.status();
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

TEST(RpcTest, CancellationByTheCaller) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    CancelSource cancel;
    TaskGroup group(env);
    Status outcome;
    MessageBuffer ten_seconds = U64Message(10'000);
    group.Spawn([](RpcClient& c, NetAddress a, std::span<const std::byte> m, CancelToken t, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kSlowMethod, m, {}, {.cancel = t});
      *out = r.status();
    }(client, server.address(), ten_seconds.span(), cancel.token(), &outcome));
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.started == 0); }));
    cancel.Cancel(Status::Cancelled("user pressed ^C"));
    co_await group.Join();
    EXPECT_EQ(outcome.code(), StatusCode::kCancelled);
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.cancelled == 0); }));
    co_await client.Close();
    co_await server.Stop();
  });
  }
}

TEST(RpcTest, UnreachablePeerBacksOffThenReconnects) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    // Find a free port, then leave it closed.
    NetAddress address;
    {
      auto probe = env.Listen({"127.0.0.1", 0});
      address = (*probe)->address();
    }
    RpcClient client(env, {.reconnect_backoff_min = 50ms, .reconnect_backoff_max = 200ms, .local_calls = false});
    auto refused = co_await client.Call(address, kPingMethod, {});
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status();
    auto fast = co_await client.Call(address, kPingMethod, {});
    EXPECT_EQ(fast.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(fast.status().message().find("next attempt"), std::string::npos) << fast.status();

    RpcServer server(env, registry);
    EXPECT_TRUE(server.Listen(address).ok());
    TaskGroup serving(env);
    serving.Spawn(server.Serve());
    Status slept = co_await Sleep(env, 200ms);  // past the backoff
    EXPECT_TRUE(slept.ok());
    auto reconnected = co_await client.Call(address, kPingMethod, {});
    EXPECT_TRUE(reconnected.ok()) << reconnected.status();

    // The server goes away: calls fail with Unavailable, and a new server is found again.
    co_await server.Shutdown();
    co_await serving.Join();
    auto gone = co_await client.Call(address, kPingMethod, {});
    EXPECT_EQ(gone.status().code(), StatusCode::kUnavailable) << gone.status();
    co_await client.Close();
  });
}

// Sends raw bytes on a fresh connection and reports whether the server closed it.
Task<bool> ServerClosesAfter(Env& env, NetAddress address, std::vector<std::byte> bytes, bool close_after) {
  auto stream = co_await env.Connect(address, {});
  CHECK(stream.ok());
  iovec v{bytes.data(), bytes.size()};
  Status wrote = co_await (*stream)->Write({&v, 1}, {});
  if (!wrote.ok()) co_return true;
  if (close_after) {
    (*stream)->Shutdown();
    co_return true;
  }
  Deadline deadline(env, 2s);
  std::byte sink[256];
  iovec r{sink, sizeof(sink)};
  auto n = co_await (*stream)->Read({&r, 1}, deadline.token());
  co_return !n.ok() ? n.status().code() != StatusCode::kDeadlineExceeded : *n == 0;
}

std::vector<std::byte> RequestFrame(FrameHeader header, std::span<const std::byte> payload = {}) {
  header.type = FrameType::kRequest;
  header.payload_bytes = payload.size();
  header.payload_crc = Crc32c(payload);
  std::vector<std::byte> bytes(kFrameHeaderBytes);
  EncodeFrameHeader(header, std::span<std::byte, kFrameHeaderBytes>(bytes.data(), kFrameHeaderBytes));
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

TEST(RpcTest, BadFramesCloseOnlyTheirConnection) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry, {.limits = {.payload_bytes_max = 1 << 20}});
    RpcClient client(env, {.local_calls = false});
    auto before = co_await client.Call(server.address(), kPingMethod, {});
    EXPECT_TRUE(before.ok());
    Counter& checksum_rejects = DefaultMetrics().GetCounter(
        "cerulean_rpc_frames_rejected_total", "", {{"side", "server"}, {"reason", "checksum"}});
    const uint64_t checksum_before = checksum_rejects.value();

    std::vector<std::byte> garbage(100, std::byte{0x5A});
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), garbage, false));

    std::vector<std::byte> bad_crc = RequestFrame({.method = kPingMethod});
    bad_crc[20] ^= std::byte{1};
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), bad_crc, false));

    std::vector<std::byte> payload(64, std::byte{1});
    std::vector<std::byte> bad_payload = RequestFrame({.method = kSinkMethod}, payload);
    bad_payload.back() ^= std::byte{0x80};
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), bad_payload, false));

    std::vector<std::byte> oversized = RequestFrame({.method = kSinkMethod});
    FrameHeader huge{.type = FrameType::kRequest, .method = kSinkMethod, .payload_bytes = 2 << 20};
    EncodeFrameHeader(huge, std::span<std::byte, kFrameHeaderBytes>(oversized.data(), kFrameHeaderBytes));
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), oversized, false));

    // A peer that disconnects mid-frame: half a header, then half a payload.
    std::vector<std::byte> half_header = RequestFrame({.method = kPingMethod});
    half_header.resize(20);
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), half_header, true));
    std::vector<std::byte> half_payload = RequestFrame({.method = kSinkMethod}, payload);
    half_payload.resize(half_payload.size() - 10);
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), half_payload, true));

    // A client that sends a response frame where a request belongs.
    std::vector<std::byte> wrong_type = RequestFrame({.method = kPingMethod});
    FrameHeader response{.type = FrameType::kResponse, .method = kPingMethod};
    EncodeFrameHeader(response, std::span<std::byte, kFrameHeaderBytes>(wrong_type.data(), kFrameHeaderBytes));
    EXPECT_TRUE(co_await ServerClosesAfter(env, server.address(), wrong_type, false));

    EXPECT_GE(checksum_rejects.value(), checksum_before + 2);
    // Everyone else is still served, on the same connection as before.
    auto after = co_await client.Call(server.address(), kPingMethod, {});
    EXPECT_TRUE(after.ok()) << after.status();
    co_await client.Close();
    co_await server.Stop();
  });
}

TEST(RpcTest, ServerStopsReadingAtTheInflightBound) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry, {.requests_inflight_per_connection_max = 4});
    RpcClient client(env, {.local_calls = false});
    MessageBuffer fifty_ms = U64Message(50);
    std::vector<Task<Result<CallResult>>> calls;
    for (int i = 0; i < 40; i++) calls.push_back(client.Call(server.address(), kSlowMethod, fifty_ms.span()));
    auto results = co_await WhenAll(std::move(calls));
    for (auto& result : results) EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(log.inflight_max, 4);  // never more than the bound, yet every call completed
    co_await client.Close();
    co_await server.Stop();
  });
}

TEST(RpcTest, ClientCallsTimeOutWhenThePeerStopsReading) {
  RunOnLoop([&](Env& env) -> Task<void> {
    // A "server" that accepts and then never reads.
    auto listener = env.Listen({"127.0.0.1", 0});
    auto accept = (*listener)->Accept({});
    RpcClient client(env, {.local_calls = false});
    std::vector<std::byte> big(32 << 20);
    iovec v{big.data(), big.size()};
    TaskGroup group(env);
    Status first, second;
    group.Spawn([](RpcClient& c, NetAddress a, iovec* p, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kSinkMethod, {}, {p, 1}, {.timeout = 100ms});
      *out = r.status();
    }(client, (*listener)->address(), &v, &first));
    group.Spawn([](RpcClient& c, NetAddress a, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kPingMethod, {}, {}, {.timeout = 150ms});
      *out = r.status();
    }(client, (*listener)->address(), &second));
    auto accepted = co_await std::move(accept);
    EXPECT_TRUE(accepted.ok());
    co_await group.Join();
    // The big write could not finish: its deadline broke the connection, no hang.
    EXPECT_EQ(first.code(), StatusCode::kDeadlineExceeded) << first;
    EXPECT_FALSE(second.ok());
    co_await client.Close();
  });
}

TEST(RpcTest, GracefulDrainFinishesInflightAndRefusesNewWork) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  for (bool local : {false, true}) {
  SCOPED_TRACE(local ? "local call" : "over the socket");
  log = SlowHandlerLog();
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = local});
    TaskGroup group(env);
    Status slow_outcome = Status::Unknown("not finished");
    MessageBuffer fifty_ms = U64Message(50);
    group.Spawn([](RpcClient& c, NetAddress a, std::span<const std::byte> m, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kSlowMethod, m);
      *out = r.status();
    }(client, server.address(), fifty_ms.span(), &slow_outcome));
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.started == 0); }));
    const NetAddress address = server.address();
    co_await server.Stop();
    co_await group.Join();
    EXPECT_TRUE(slow_outcome.ok()) << slow_outcome;  // finished during the drain
    EXPECT_EQ(log.finished, 1);
    auto refused = co_await client.Call(address, kPingMethod, {});
    EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
    co_await client.Close();
  });
  }
}

TEST(RpcTest, DrainDeadlineCancelsStragglers) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry, {.drain_timeout = 20ms});
    RpcClient client(env, {.local_calls = false});
    TaskGroup group(env);
    Status outcome;
    MessageBuffer an_hour = U64Message(3'600'000);
    group.Spawn([](RpcClient& c, NetAddress a, std::span<const std::byte> m, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kSlowMethod, m);
      *out = r.status();
    }(client, server.address(), an_hour.span(), &outcome));
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.started == 0); }));
    co_await server.Stop();
    co_await group.Join();
    EXPECT_EQ(outcome.code(), StatusCode::kUnavailable) << outcome;
    EXPECT_EQ(log.cancelled, 1);
    co_await client.Close();
  });
}

// Regression: several large requests go out in one gathered write; the server answers the
// first while the later ones are still being written, and that answer must be taken.
TEST(RpcTest, AnswersToRequestsOfABatchStillBeingWritten) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    RpcClient client(env, {.local_calls = false});
    std::vector<std::byte> payload(1 << 20, std::byte{3});
    iovec piece{payload.data(), payload.size()};
    for (int round = 0; round < 5; round++) {
      std::vector<Task<Result<CallResult>>> calls;
      for (int i = 0; i < 8; i++) {
        calls.push_back(client.Call(server.address(), kSinkMethod, {}, {&piece, 1}, {.timeout = 5s}));
      }
      auto results = co_await WhenAll(std::move(calls));
      for (auto& result : results) EXPECT_TRUE(result.ok()) << result.status();
    }
    co_await client.Close();
    co_await server.Stop();
  });
}

// Regression: a response whose request was still queued behind a big write used to be matched
// to the call, and streamed into the caller's buffer after the call had returned.
TEST(RpcTest, ResponseToAnUnsentRequestIsIgnored) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto listener = env.Listen({"127.0.0.1", 0});
    auto accept = (*listener)->Accept({});
    RpcClient client(env, {.local_calls = false});
    std::vector<std::byte> big(64 << 20);
    iovec big_piece{big.data(), big.size()};
    std::vector<std::byte> answer_buffer(1 << 20, std::byte{0xAA});
    TaskGroup group(env);
    Status big_outcome, small_outcome;
    // Call B (slot 0) blocks the writer; call A (slot 1, request id 1 << 32 | 1) queues behind it.
    group.Spawn([](RpcClient& c, NetAddress a, iovec* p, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kSinkMethod, {}, {p, 1}, {.timeout = 1500ms});
      *out = r.status();
    }(client, (*listener)->address(), &big_piece, &big_outcome));
    group.Spawn([](RpcClient& c, NetAddress a, std::span<std::byte> into, Status* out) -> Task<void> {
      auto r = co_await c.Call(a, kPingMethod, {}, {}, {.timeout = 300ms, .response_payload = into});
      *out = r.status();
    }(client, (*listener)->address(), answer_buffer, &small_outcome));
    auto server = co_await std::move(accept);
    EXPECT_TRUE(server.ok());
    // A forged response to A: the header and a little of a 1 MiB payload now, the rest later.
    std::vector<std::byte> payload(1 << 20, std::byte{0x55});
    std::vector<std::byte> frame(kFrameHeaderBytes);
    EncodeFrameHeader({.type = FrameType::kResponse, .method = kPingMethod, .request_id = (1ull << 32) | 1,
                       .payload_bytes = payload.size(), .payload_crc = Crc32c(payload)},
                      std::span<std::byte, kFrameHeaderBytes>(frame.data(), kFrameHeaderBytes));
    frame.insert(frame.end(), payload.begin(), payload.begin() + 1000);
    iovec head{frame.data(), frame.size()};
    Status wrote = co_await (*server)->Write({&head, 1}, {});
    EXPECT_TRUE(wrote.ok());
    Status slept = co_await Sleep(env, 400ms);  // A's deadline passes
    EXPECT_TRUE(slept.ok());
    EXPECT_EQ(small_outcome.code(), StatusCode::kDeadlineExceeded) << small_outcome;
    iovec rest{payload.data() + 1000, payload.size() - 1000};
    wrote = co_await (*server)->Write({&rest, 1}, {});
    slept = co_await Sleep(env, 50ms);
    EXPECT_TRUE(slept.ok());
    for (std::byte b : answer_buffer) {
      if (b != std::byte{0xAA}) {
        ADD_FAILURE() << "bytes landed in the buffer of a call that had returned";
        break;
      }
    }
    co_await group.Join();
    EXPECT_EQ(big_outcome.code(), StatusCode::kDeadlineExceeded) << big_outcome;
    co_await client.Close();
  });
}

TEST(RpcTest, RequestPayloadsStayWithinTheServerBudget) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry, {.limits = {.payload_bytes_max = 1 << 20},
                                      .request_payload_bytes_inflight_max = 2 << 20});
    RpcClient client(env, {.connections_per_peer = 5, .local_calls = false});
    std::vector<std::byte> payload(1 << 20);
    iovec piece{payload.data(), payload.size()};
    MessageBuffer twenty_ms = U64Message(20);
    std::vector<Task<Result<CallResult>>> calls;
    for (int i = 0; i < 10; i++) {
      calls.push_back(client.Call(server.address(), kSlowMethod, twenty_ms.span(), {&piece, 1}));
    }
    auto results = co_await WhenAll(std::move(calls));
    for (auto& result : results) EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(log.inflight_max, 2);  // 2 MiB of budget, 1 MiB each, over 5 connections
    co_await client.Close();
    co_await server.Stop();
  });
}

TEST(RpcTest, BadFrameCancelsTheHandlersOfItsConnection) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    auto stream = co_await env.Connect(server.address(), {});
    MessageBuffer an_hour = U64Message(3'600'000);
    // timeout_us = 0: no deadline; only the connection's fate can stop it.
    std::vector<std::byte> bytes = RequestFrame({.method = kSlowMethod, .message_bytes = static_cast<uint32_t>(an_hour.size()),
                                                 .message_crc = Crc32c(an_hour.span())});
    bytes.insert(bytes.end(), an_hour.span().begin(), an_hour.span().end());
    iovec request{bytes.data(), bytes.size()};
    Status wrote = co_await (*stream)->Write({&request, 1}, {});
    EXPECT_TRUE(wrote.ok());
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.started == 0); }));
    std::vector<std::byte> garbage(64, std::byte{0x11});
    iovec bad{garbage.data(), garbage.size()};
    wrote = co_await (*stream)->Write({&bad, 1}, {});
    EXPECT_TRUE(co_await Eventually(env, [&] { return !(log.cancelled == 0); }));
    co_await server.Stop();
  });
}

TEST(RpcTest, HostileTimeoutAndCancelRightBehindItsRequest) {
  SlowHandlerLog log;
  ServiceRegistry registry = MakeRegistry(&log);
  RunOnLoop([&](Env& env) -> Task<void> {
    TestServer server(env, registry);
    auto stream = co_await env.Connect(server.address(), {});
    // A ping with the largest timeout the wire allows is served (no overflow, UBSan watches).
    std::vector<std::byte> ping = RequestFrame({.method = kPingMethod, .request_id = 1, .timeout_us = UINT64_MAX});
    // A slow request and its cancel frame in one write: the cancel must still reach the handler.
    MessageBuffer an_hour = U64Message(3'600'000);
    std::vector<std::byte> slow = RequestFrame({.method = kSlowMethod, .request_id = 2,
                                                .message_bytes = static_cast<uint32_t>(an_hour.size()),
                                                .message_crc = Crc32c(an_hour.span())});
    slow.insert(slow.end(), an_hour.span().begin(), an_hour.span().end());
    std::vector<std::byte> cancel(kFrameHeaderBytes);
    EncodeFrameHeader({.type = FrameType::kCancel, .request_id = 2},
                      std::span<std::byte, kFrameHeaderBytes>(cancel.data(), kFrameHeaderBytes));
    iovec parts[] = {{ping.data(), ping.size()}, {slow.data(), slow.size()}, {cancel.data(), cancel.size()}};
    Status wrote = co_await (*stream)->Write(parts, {});
    EXPECT_TRUE(wrote.ok());
    // Two answers: the ping (Ok), then the slow request, cancelled before its handler ran
    // (its error text rides as the control message, so read header by header).
    std::vector<FrameHeader> answers;
    Deadline deadline(env, 10s);
    std::vector<std::byte> received;
    while (answers.size() < 2 && !deadline.expired()) {
      std::byte chunk[512];
      iovec into{chunk, sizeof(chunk)};
      auto n = co_await (*stream)->Read({&into, 1}, deadline.token());
      if (!n.ok() || *n == 0) break;
      received.insert(received.end(), chunk, chunk + *n);
      while (received.size() >= kFrameHeaderBytes) {
        auto header = DecodeFrameHeader(std::span<const std::byte, kFrameHeaderBytes>(received.data(), kFrameHeaderBytes), {});
        EXPECT_TRUE(header.ok());
        if (!header.ok()) break;
        const size_t total = kFrameHeaderBytes + header->message_bytes + header->payload_bytes;
        if (received.size() < total) break;
        answers.push_back(*header);
        received.erase(received.begin(), received.begin() + total);
      }
    }
    EXPECT_EQ(answers.size(), 2u);
    if (answers.size() < 2) answers.resize(2);  // (ASSERT cannot return from a coroutine)
    EXPECT_EQ(answers[0].request_id, 1u);
    EXPECT_EQ(answers[0].status_code, 0u);
    EXPECT_EQ(answers[1].request_id, 2u);
    EXPECT_EQ(answers[1].status_code, static_cast<uint32_t>(StatusCode::kCancelled));
    EXPECT_EQ(log.finished, 0);
    co_await server.Stop();
  });
}

}  // namespace
}  // namespace cerulean::rpc
