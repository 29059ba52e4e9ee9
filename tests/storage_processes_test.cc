// Real processes: three `cerulean server --role storage` on loopback form a chain; several
// clients append concurrently while one node is killed with SIGKILL and restarted. Afterwards
// every acknowledged append is read back, byte for byte, from every replica.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"
#include "storage/chain_client.h"

namespace cerulean::storage {
namespace {

using cerulean::testing::RunOnLoop;

constexpr Duration kTimeout = std::chrono::seconds(2);

// A storage node process on a fixed port, restartable on the same data directory.
class NodeProcess {
 public:
  NodeProcess(std::string directory, uint16_t port) : directory_(std::move(directory)), port_(port) {}
  ~NodeProcess() { Kill(); }

  void Start() {
    const std::string log = directory_ + ".log";
    pid_ = fork();
    CHECK(pid_ >= 0);
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      freopen(log.c_str(), "a", stdout);
      freopen(log.c_str(), "a", stderr);
      execl(CERULEAN_BINARY, CERULEAN_BINARY, "server", "--role", "storage", "--data", directory_.c_str(),
            "--rpc-port", port.c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool Stop() {  // SIGTERM: a clean drain; true if it exited 0
    if (pid_ <= 0) return true;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  NetAddress address() const { return {"127.0.0.1", port_}; }

 private:
  std::string directory_;
  uint16_t port_;
  pid_t pid_ = -1;
};

uint16_t FreePort() {
  // Ports are picked by the kernel, then released for the node to bind.
  std::optional<uint16_t> port;
  RunOnLoop([&](Env& env) -> Task<void> {
    auto listener = env.Listen({"127.0.0.1", 0});
    port = (*listener)->address().port;
    co_return;
  });
  return *port;
}

std::vector<std::byte> Bytes(size_t count, uint64_t seed) {
  std::vector<std::byte> data(count);
  for (size_t i = 0; i < count; i++) data[i] = std::byte((i * 29 + seed * 11 + (i >> 10)) & 0xFF);
  return data;
}

struct Acknowledged {
  uint64_t extent_id;
  uint64_t record_offset;
  size_t bytes;
  uint64_t seed;
};

Task<Status> WaitHealthy(Env& env, rpc::RpcClient& client, const Chain& chain) {
  for (int i = 0; i < 200; i++) {
    bool all = true;
    for (const NetAddress& replica : chain.replicas) {
      auto length = co_await client.Call(replica, kStorageStatsMethod, {}, {}, {.timeout = kTimeout});
      all = all && length.ok();
    }
    if (all) co_return Status::Ok();
    Status slept = co_await Sleep(env, std::chrono::milliseconds(50));
    CHECK(slept.ok());
  }
  co_return Status::Unavailable("nodes did not come up");
}

TEST(StorageProcessesTest, SigkillAndRestartLoseNoAcknowledgedAppend) {
  const std::string root = std::filesystem::temp_directory_path() / ("cerulean-nodes-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::vector<std::unique_ptr<NodeProcess>> nodes;
  Chain chain{.version = 1};
  for (int i = 0; i < 3; i++) {
    nodes.push_back(std::make_unique<NodeProcess>(root + "/node" + std::to_string(i), FreePort()));
    nodes.back()->Start();
    chain.replicas.push_back(nodes.back()->address());
  }
  std::vector<Acknowledged> acknowledged;
  RunOnLoop([&](Env& env) -> Task<void> {
    rpc::RpcClient client(env, {.connect_timeout = std::chrono::milliseconds(500),
                                .reconnect_backoff_max = std::chrono::milliseconds(50)});
    EXPECT_TRUE((co_await WaitHealthy(env, client, chain)).ok());
    uint64_t extent_id = 1;
    EXPECT_TRUE((co_await CreateExtentOnChain(client, chain, extent_id, Durability::kSync, kTimeout)).ok());
    bool down = false;
    int failures = 0;
    for (int round = 0; round < 40; round++) {
      if (round == 15) {  // the middle node dies mid-stream, and comes back a little later
        nodes[1]->Kill();
        down = true;
      }
      // Four clients append at once.
      std::vector<std::vector<std::byte>> payloads;
      std::vector<iovec> pieces(4);
      std::vector<Task<Result<AppendResponse>>> calls;
      for (int c = 0; c < 4; c++) payloads.push_back(Bytes(1000 + 7919 * (round * 4 + c) % 300'000, round * 4 + c));
      for (int c = 0; c < 4; c++) {
        pieces[c] = {payloads[c].data(), payloads[c].size()};
        calls.push_back(AppendToChain(client, chain, extent_id, {&pieces[c], 1}, {}, kTimeout));
      }
      auto results = co_await WhenAll(std::move(calls));
      bool failed = false;
      for (int c = 0; c < 4; c++) {
        if (results[c].ok()) {
          acknowledged.push_back({extent_id, results[c]->record_offset, payloads[c].size(), uint64_t(round * 4 + c)});
        } else {
          failed = true;
        }
      }
      if (!failed) continue;
      failures++;
      // Seal what the reachable replicas agree on, then carry on with a new extent.
      auto sealed = co_await SealChain(client, chain, extent_id, kTimeout);
      EXPECT_TRUE(sealed.ok()) << sealed.status();
      extent_id++;
      Status created;
      for (int attempt = 0; attempt < 100; attempt++) {
        created = co_await CreateExtentOnChain(client, chain, extent_id, Durability::kSync, kTimeout);
        if (created.ok()) break;
        if (attempt == 3 && down) {  // the restart, from the same data directory
          nodes[1]->Start();
          down = false;
        }
        Status slept = co_await Sleep(env, std::chrono::milliseconds(100));
        CHECK(slept.ok());
      }
      EXPECT_TRUE(created.ok()) << created;
    }
    EXPECT_GT(failures, 0);  // the kill was felt
    EXPECT_TRUE((co_await WaitHealthy(env, client, chain)).ok());
    // Every acknowledged append, from every replica, byte for byte.
    for (const Acknowledged& record : acknowledged) {
      const auto expected = Bytes(record.bytes, record.seed);
      for (const NetAddress& replica : chain.replicas) {
        std::vector<std::byte> into(record.bytes);
        Status read = co_await ReadFromReplica(client, replica, {record.extent_id, record.record_offset, 0, record.bytes},
                                               into, kTimeout);
        EXPECT_TRUE(read.ok()) << replica.ToString() << " extent " << record.extent_id << ": " << read;
        EXPECT_TRUE(into == expected) << replica.ToString() << " extent " << record.extent_id << " offset "
                                      << record.record_offset;
      }
    }
    co_await client.Close();
  });
  EXPECT_GT(acknowledged.size(), 100u);
  for (auto& node : nodes) EXPECT_TRUE(node->Stop());
  std::filesystem::remove_all(root);
}

// Appends 1 MiB records to `extent_id` until one fails; returns the acknowledged ones and the
// error that stopped them.
Task<std::pair<std::vector<Acknowledged>, Status>> FillExtent(rpc::RpcClient& client, const Chain& chain,
                                                              uint64_t extent_id, int limit) {
  std::vector<Acknowledged> stored;
  for (int i = 0; i < limit; i++) {
    auto payload = Bytes(1 << 20, extent_id * 1000 + i);
    iovec piece{payload.data(), payload.size()};
    auto result = co_await AppendToChain(client, chain, extent_id, {&piece, 1}, {}, kTimeout);
    if (!result.ok()) co_return std::pair{std::move(stored), result.status()};
    stored.push_back({extent_id, result->record_offset, payload.size(), extent_id * 1000 + i});
  }
  co_return std::pair{std::move(stored), Status::Unknown("never filled")};
}

Task<void> ExpectReadable(rpc::RpcClient& client, const NetAddress& node, const std::vector<Acknowledged>& records) {
  for (const Acknowledged& record : records) {
    std::vector<std::byte> into(record.bytes);
    Status read = co_await ReadFromReplica(client, node, {record.extent_id, record.record_offset, 0, record.bytes},
                                           into, kTimeout);
    EXPECT_TRUE(read.ok()) << read;
    EXPECT_TRUE(into == Bytes(record.bytes, record.seed));
  }
}

TEST(StorageProcessesTest, FullDiskGivesCleanErrorsAndTheNodeStaysHealthy) {
  const std::string mount_point = "/tmp/cerulean-full-disk-" + std::to_string(getpid());
  std::filesystem::create_directories(mount_point);
  const std::string mount = "mount -t tmpfs -o size=48m tmpfs " + mount_point + " 2>/dev/null";
  if (std::system(mount.c_str()) != 0) {
    std::filesystem::remove(mount_point);
    GTEST_SKIP() << "mounting a size-limited tmpfs needs root";
  }
  NodeProcess node(mount_point + "/node", FreePort());
  node.Start();
  Chain chain{.version = 1, .replicas = {node.address()}};
  RunOnLoop([&](Env& env) -> Task<void> {
    rpc::RpcClient client(env);
    EXPECT_TRUE((co_await WaitHealthy(env, client, chain)).ok());
    // 1. The store's own budget (capacity less its reserve) stops the appends.
    EXPECT_TRUE((co_await CreateExtentOnChain(client, chain, 1, Durability::kSync, kTimeout)).ok());
    auto [first, first_error] = co_await FillExtent(client, chain, 1, 100);
    EXPECT_EQ(first_error.code(), StatusCode::kResourceExhausted) << first_error;
    EXPECT_GT(first.size(), 5u);
    co_await ExpectReadable(client, node.address(), first);
    auto stats = co_await client.Call(node.address(), kStorageStatsMethod, {}, {}, {.timeout = kTimeout});
    EXPECT_TRUE(stats.ok()) << stats.status();  // still serving

    // 2. Something else fills the disk behind the store's back: the real ENOSPC, mid-append.
    EXPECT_TRUE((co_await SealChain(client, chain, 1, kTimeout)).ok());
    rpc::MessageBuffer delete_one = rpc::EncodeMessage(ExtentRequest{.extent_id = 1});
    EXPECT_TRUE((co_await client.Call(node.address(), kDeleteExtentMethod, delete_one.span(), {}, {.timeout = kTimeout})).ok());
    EXPECT_TRUE((co_await CreateExtentOnChain(client, chain, 2, Durability::kSync, kTimeout)).ok());
    auto [before_filler, unused] = co_await FillExtent(client, chain, 2, 3);
    EXPECT_EQ(before_filler.size(), 3u);
    {
      std::ofstream filler(mount_point + "/filler", std::ios::binary);
      std::vector<char> chunk(1 << 20, 'f');
      while (filler.write(chunk.data(), chunk.size())) {
      }
    }
    auto [after_filler, enospc] = co_await FillExtent(client, chain, 2, 100);
    EXPECT_EQ(enospc.code(), StatusCode::kResourceExhausted) << enospc;
    // The file system said no (ENOSPC), not the store's own budget.
    EXPECT_NE(enospc.message().find("No space left on device"), std::string::npos) << enospc;
    // Nothing stored before is harmed, and the node keeps answering.
    co_await ExpectReadable(client, node.address(), before_filler);
    co_await ExpectReadable(client, node.address(), after_filler);
    stats = co_await client.Call(node.address(), kStorageStatsMethod, {}, {}, {.timeout = kTimeout});
    EXPECT_TRUE(stats.ok()) << stats.status();
    // Space comes back: a new extent takes appends again.
    std::filesystem::remove(mount_point + "/filler");
    EXPECT_TRUE((co_await SealChain(client, chain, 2, kTimeout)).ok());
    EXPECT_TRUE((co_await CreateExtentOnChain(client, chain, 3, Durability::kSync, kTimeout)).ok());
    auto [again, again_error] = co_await FillExtent(client, chain, 3, 2);
    EXPECT_EQ(again.size(), 2u) << again_error;
    co_await client.Close();
  });
  EXPECT_TRUE(node.Stop());
  std::system(("umount " + mount_point).c_str());
  std::filesystem::remove_all(mount_point);
}

}  // namespace
}  // namespace cerulean::storage
