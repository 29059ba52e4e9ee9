// UringEnv against the real kernel: TCP over loopback and files with O_DIRECT.
#include "runtime/uring/uring_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "base/buffer_pool.h"
#include "runtime/deadline.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/test_directory.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"

namespace cerulean {
namespace {

using testing::RunOnLoop;

iovec Iov(void* data, size_t length) { return {data, length}; }

struct ConnectedPair {
  std::unique_ptr<Stream> client;
  std::unique_ptr<Stream> server;
};

Task<ConnectedPair> Connect(Env& env) {
  auto listener = env.Listen({"127.0.0.1", 0});
  CHECK(listener.ok()) << listener.status().ToString();
  auto accept = (*listener)->Accept({});
  auto client = co_await env.Connect((*listener)->address(), {});
  CHECK(client.ok()) << client.status().ToString();
  auto server = co_await std::move(accept);
  CHECK(server.ok()) << server.status().ToString();
  co_return ConnectedPair{std::move(*client), std::move(*server)};
}

Task<Status> ReadExactly(Stream& stream, std::span<std::byte> buffer) {
  size_t done = 0;
  while (done < buffer.size()) {
    iovec v = Iov(buffer.data() + done, buffer.size() - done);
    auto n = co_await stream.Read({&v, 1}, {});
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return Status::Unavailable("eof");
    done += *n;
  }
  co_return Status::Ok();
}

TEST(UringEnvTest, TcpScatterGatherRoundTrip) {
  RunOnLoop([](Env& env) -> Task<void> {
    ConnectedPair pair = co_await Connect(env);
    char a[] = "hello ", b[] = "scatter-", c[] = "gather";
    iovec out[] = {Iov(a, 6), Iov(b, 8), Iov(c, 6)};
    Status wrote = co_await pair.client->Write(out, {});
    EXPECT_TRUE(wrote.ok()) << wrote;
    std::byte received[20];
    Status read = co_await ReadExactly(*pair.server, received);
    EXPECT_TRUE(read.ok()) << read;
    EXPECT_EQ(std::string(reinterpret_cast<char*>(received), 20), "hello scatter-gather");
  });
}

TEST(UringEnvTest, PeerCloseGivesEndOfStream) {
  RunOnLoop([](Env& env) -> Task<void> {
    ConnectedPair pair = co_await Connect(env);
    pair.client.reset();  // close
    std::byte buffer[16];
    iovec v = Iov(buffer, sizeof(buffer));
    auto n = co_await pair.server->Read({&v, 1}, {});
    EXPECT_TRUE(n.ok());
    EXPECT_EQ(*n, 0u);
  });
}

TEST(UringEnvTest, ConnectRefusedIsUnavailable) {
  RunOnLoop([](Env& env) -> Task<void> {
    // Bind then close to find a port with no listener.
    uint16_t port = 0;
    {
      auto listener = env.Listen({"127.0.0.1", 0});
      port = (*listener)->address().port;
    }
    auto stream = co_await env.Connect({"127.0.0.1", port}, {});
    EXPECT_EQ(stream.status().code(), StatusCode::kUnavailable);
  });
}

TEST(UringEnvTest, ReadCancelledByDeadline) {
  RunOnLoop([](Env& env) -> Task<void> {
    ConnectedPair pair = co_await Connect(env);
    Deadline deadline(env, 10ms);
    std::byte buffer[16];
    iovec v = Iov(buffer, sizeof(buffer));
    auto n = co_await pair.server->Read({&v, 1}, deadline.token());
    EXPECT_EQ(n.status().code(), StatusCode::kDeadlineExceeded);
  });
}

TEST(UringEnvTest, WriterBlocksWhenPeerStopsReadingUntilDeadline) {
  RunOnLoop([](Env& env) -> Task<void> {
    ConnectedPair pair = co_await Connect(env);
    // 64 MiB is far beyond the loopback socket buffers: the write must block, not finish.
    std::vector<std::byte> big(64 << 20);
    iovec v = Iov(big.data(), big.size());
    Deadline deadline(env, 50ms);
    Status wrote = co_await pair.client->Write({&v, 1}, deadline.token());
    EXPECT_EQ(wrote.code(), StatusCode::kDeadlineExceeded);
  });
}

TEST(UringEnvTest, RunBlockingRunsOffTheLoopAndResumesOnIt) {
  RunOnLoop([](Env& env) -> Task<void> {
    const std::thread::id loop_thread = std::this_thread::get_id();
    std::vector<std::thread::id> ran_on(16);
    std::vector<Task<void>> calls;
    for (size_t i = 0; i < ran_on.size(); i++) {
      calls.push_back([](Env& e, std::thread::id* where, std::thread::id loop) -> Task<void> {
        co_await e.RunBlocking([where] {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));  // it may block
          *where = std::this_thread::get_id();
        });
        EXPECT_EQ(std::this_thread::get_id(), loop);  // back on the loop
      }(env, &ran_on[i], loop_thread));
    }
    co_await WhenAll(std::move(calls));
    for (const std::thread::id& id : ran_on) EXPECT_NE(id, loop_thread);
  });
}

TEST(UringEnvTest, ListenerCloseFailsPendingAccept) {
  RunOnLoop([](Env& env) -> Task<void> {
    auto listener = env.Listen({"127.0.0.1", 0});
    TaskGroup group(env);
    Status accepted;
    group.Spawn([](Listener& l, Status* out) -> Task<void> {
      auto stream = co_await l.Accept({});
      *out = stream.status();
    }(**listener, &accepted));
    Status slept = co_await Sleep(env, 1ms);
    EXPECT_TRUE(slept.ok());
    (*listener)->Close();
    co_await group.Join();
    EXPECT_EQ(accepted.code(), StatusCode::kUnavailable);
  });
}

class UringFileTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"uring"};
  const std::filesystem::path directory_ = temporary_.path();
};

TEST_F(UringFileTest, DirectWriteSyncReadBack) {
  const std::string path = directory_ / "extent";
  RunOnLoop([&](Env& env) -> Task<void> {
    auto file = co_await env.OpenFile(path, {.create = true, .direct = true});
    EXPECT_TRUE(file.ok()) << file.status();
    Status allocated = co_await (*file)->Allocate(0, 1 << 20, File::AllocateMode::kKeepSize);
    EXPECT_TRUE(allocated.ok()) << allocated;
    PooledBuffer header = PooledBuffer::Allocate(4096);
    PooledBuffer payload = PooledBuffer::Allocate(8192);
    std::memset(header.data(), 'h', header.size());
    std::memset(payload.data(), 'p', payload.size());
    iovec parts[] = {Iov(header.data(), header.size()), Iov(payload.data(), payload.size())};
    Status wrote = co_await (*file)->Write(4096, parts);
    EXPECT_TRUE(wrote.ok()) << wrote;
    Status synced = co_await (*file)->DataSync();
    EXPECT_TRUE(synced.ok()) << synced;
    EXPECT_EQ(*(*file)->Size(), 4096u * 4);

    PooledBuffer back = PooledBuffer::Allocate(8192);
    auto read = co_await (*file)->Read(8192, back.span());
    EXPECT_TRUE(read.ok());
    EXPECT_EQ(*read, 8192u);
    EXPECT_EQ(std::memcmp(back.data(), payload.data(), 8192), 0);
    // Reading past the end returns what exists.
    auto tail = co_await (*file)->Read(12288, back.span());
    EXPECT_EQ(*tail, 4096u);
    Status truncated = co_await (*file)->Truncate(4096);
    EXPECT_TRUE(truncated.ok());
    EXPECT_EQ(*(*file)->Size(), 4096u);
  });
}

TEST_F(UringFileTest, MisalignedDirectWriteIsInvalidArgument) {
  const std::string path = directory_ / "misaligned";
  RunOnLoop([&](Env& env) -> Task<void> {
    auto file = co_await env.OpenFile(path, {.create = true, .direct = true});
    PooledBuffer buffer = PooledBuffer::Allocate(4096);
    iovec v = Iov(buffer.data(), 100);
    Status wrote = co_await (*file)->Write(0, {&v, 1});
    EXPECT_EQ(wrote.code(), StatusCode::kInvalidArgument);
  });
}

TEST_F(UringFileTest, OpenMissingIsNotFoundAndDirectoryOps) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto missing = co_await env.OpenFile(directory_ / "nope", {});
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_TRUE(env.CreateDirectories(directory_ / "a/b").ok());
    auto file = co_await env.OpenFile(directory_ / "a/b/x", {.create = true});
    EXPECT_TRUE(file.ok());
    EXPECT_TRUE((co_await env.RenameFile(directory_ / "a/b/x", directory_ / "a/b/y")).ok());
    Status missing_rename = co_await env.RenameFile(directory_ / "a/b/none", directory_ / "a/b/z");
    EXPECT_EQ(missing_rename.code(), StatusCode::kNotFound) << missing_rename.ToString();
    auto names = env.ListDirectory(directory_ / "a/b");
    EXPECT_EQ(*names, std::vector<std::string>{"y"});
    EXPECT_TRUE(env.RemoveFile(directory_ / "a/b/y").ok());
    EXPECT_EQ(env.RemoveFile(directory_ / "a/b/y").code(), StatusCode::kNotFound);
  });
}

}  // namespace
}  // namespace cerulean
