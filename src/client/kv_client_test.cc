// The KV client end to end against a cluster of one meta and three storage nodes in this
// process, over loopback rpc: batches, put-if-absent, prefixes, leases, pins, isolation, bad
// input, and the loss of a node with one and with two replicas.
#include "cerulean/kv_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "runtime/test_directory.h"
#include "server/local_cluster.h"

namespace cerulean {
namespace {

std::vector<std::byte> ValueOf(const KvKey& key, size_t bytes) {
  std::vector<std::byte> value(bytes);
  std::mt19937_64 random(key.word(0));
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t word = random();
    std::memcpy(value.data() + i, &word, std::min<size_t>(8, bytes - i));
  }
  return value;
}

// Values cut into `pieces` equal pieces, and buffers to get them back into.
struct Batch {
  Batch(std::span<const KvKey> keys, size_t pieces, size_t piece_bytes) {
    for (const KvKey& key : keys) {
      values.push_back(ValueOf(key, pieces * piece_bytes));
      into.emplace_back(pieces * piece_bytes);
    }
    for (size_t i = 0; i < keys.size(); i++) {
      KvPutItem put{.key = keys[i]};
      KvGetItem get{.key = keys[i]};
      for (size_t p = 0; p < pieces; p++) {
        put.pieces.push_back(std::span<const std::byte>(values[i]).subspan(p * piece_bytes, piece_bytes));
        get.pieces.push_back(std::span<std::byte>(into[i]).subspan(p * piece_bytes, piece_bytes));
      }
      puts.push_back(std::move(put));
      gets.push_back(std::move(get));
    }
  }
  bool Matches(size_t i) const { return values[i] == into[i]; }

  std::vector<std::vector<std::byte>> values, into;
  std::vector<KvPutItem> puts;
  std::vector<KvGetItem> gets;
};

std::vector<KvKey> Keys(size_t count, std::string_view seed) {
  std::vector<uint32_t> tokens(count * 4);
  for (size_t i = 0; i < tokens.size(); i++) tokens[i] = static_cast<uint32_t>(i * 7 + 3);
  return KvPrefixHasher(seed).Keys(tokens, 4);
}

// `count` batches of `keys_each` keys named after `seed`, each value of `pieces` pieces.
struct Batches {
  Batches(size_t count, const std::string& seed, size_t keys_each, size_t pieces, size_t piece_bytes) {
    for (size_t b = 0; b < count; b++) {
      keys.push_back(Keys(keys_each, seed + "-" + std::to_string(b)));
      batches.push_back(std::make_unique<Batch>(keys.back(), pieces, piece_bytes));
    }
  }
  std::vector<std::vector<KvKey>> keys;
  std::vector<std::unique_ptr<Batch>> batches;
};

class KvClientTest : public ::testing::Test {
 protected:
  KvClientTest()
      : directory_("kv-client"),
        cluster_({.directory = directory_ / "cluster", .storage_nodes = 3, .replicas = 1}) {
    auto opened = KvClient::Open({.meta_address = cluster_.meta_address(), .timeout = std::chrono::seconds(2)});
    CHECK(opened.ok()) << opened.status();
    client_ = std::move(*opened);
  }

  testing::TestDirectory directory_;
  server::LocalCluster cluster_;
  std::unique_ptr<KvClient> client_;
};

TEST_F(KvClientTest, BatchesRoundTripWithPiecesAndPrefixes) {
  // 32 MiB a batch: under ThreadSanitizer a node takes seconds to copy its share, past the
  // fixture's short timeout (kept short for the lost-node test).
  auto patient = KvClient::Open({.meta_address = cluster_.meta_address(), .timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(patient.ok()) << patient.status();
  client_ = std::move(*patient);
  auto ns = client_->OpenNamespace({.model = "llama-3-8b", .dtype = "bf16", .layout = "nhd", .tp_rank = 1});
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ(ns->name, "/llama-3-8b/bf16/nhd/tp1/pp0");
  auto again = client_->OpenNamespace({.model = "llama-3-8b", .dtype = "bf16", .layout = "nhd", .tp_rank = 1});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, ns->id);

  // 2 MiB values as 64 pieces of 32 KiB, the vLLM block shape.
  const std::vector<KvKey> keys = Keys(24, "llama-3-8b");
  const std::span<const KvKey> first_16 = std::span(keys).first(16);
  Batch batch(first_16, 64, 32 << 10);
  auto put = client_->BatchPut(*ns, batch.puts);
  ASSERT_EQ(put.size(), 16u);
  for (const auto& result : put) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(*result, KvPutResult::kStored);
  }
  auto repeat = client_->BatchPut(*ns, batch.puts);
  for (const auto& result : repeat) EXPECT_EQ(*result, KvPutResult::kAlreadyPresent);

  EXPECT_EQ(*client_->LookupPrefix(*ns, keys), 16u);
  EXPECT_EQ(*client_->LookupPrefix(*ns, std::span(keys).subspan(16)), 0u);
  auto exists = client_->BatchExists(*ns, keys, /*lease=*/true);
  ASSERT_TRUE(exists.ok());
  for (size_t i = 0; i < keys.size(); i++) EXPECT_EQ((*exists)[i], i < 16) << i;

  Batch wanted(keys, 64, 32 << 10);
  auto got = client_->BatchGet(*ns, wanted.gets);
  for (size_t i = 0; i < keys.size(); i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    EXPECT_EQ(*got[i], i < 16) << i;
    if (i < 16) {
      EXPECT_TRUE(wanted.Matches(i)) << i;
    }
  }

  auto removed = client_->Remove(*ns, std::span(keys).first(2));
  EXPECT_TRUE(*removed[0] && *removed[1]);
  EXPECT_EQ(*client_->LookupPrefix(*ns, keys), 0u);
  auto pinned = client_->Pin(*ns, std::span(keys).subspan(2, 1));
  EXPECT_TRUE(*pinned[0]);
  EXPECT_TRUE(*client_->Unpin(*ns, std::span(keys).subspan(2, 1))[0]);
  EXPECT_EQ(client_->Unpin(*ns, std::span(keys).subspan(2, 1))[0].status().code(), StatusCode::kFailedPrecondition);

  auto stats = client_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->nodes, 3u);
  EXPECT_EQ(stats->entries, 14u);
  EXPECT_EQ(stats->live_value_bytes, 14u * (2u << 20));
}

// One caller thread keeps many batches in flight through the futures: each puts and gets its
// own keys, and every value comes back whole, as with the waiting calls.
TEST_F(KvClientTest, AsyncBatchesRunConcurrentlyFromOneThread) {
  auto ns = client_->OpenNamespace({.model = "async", .dtype = "fp16"});
  ASSERT_TRUE(ns.ok()) << ns.status();
  constexpr size_t kBatches = 8;
  auto [keys, batches] = Batches(kBatches, "async", 6, 4, 16 << 10);
  std::vector<std::future<std::vector<Result<KvPutResult>>>> puts;
  for (auto& batch : batches) puts.push_back(client_->BatchPutAsync(*ns, batch->puts));
  for (auto& put : puts) {
    for (const auto& result : put.get()) {
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(*result, KvPutResult::kStored);
    }
  }
  std::vector<std::future<std::vector<Result<bool>>>> gets;
  for (auto& batch : batches) gets.push_back(client_->BatchGetAsync(*ns, batch->gets));
  for (size_t b = 0; b < kBatches; b++) {
    const std::vector<Result<bool>> got = gets[b].get();
    ASSERT_EQ(got.size(), keys[b].size());
    for (size_t i = 0; i < got.size(); i++) {
      ASSERT_TRUE(got[i].ok()) << got[i].status();
      EXPECT_TRUE(*got[i]);
      EXPECT_TRUE(batches[b]->Matches(i)) << b << "/" << i;
    }
  }
}

// A client whose thread spins for responses before it sleeps sees what one that sleeps sees.
TEST_F(KvClientTest, APollingClientSeesTheSameEntries) {
  auto ns = client_->OpenNamespace({.model = "polling", .dtype = "fp16"});
  ASSERT_TRUE(ns.ok()) << ns.status();
  const std::vector<KvKey> keys = Keys(12, "polling");
  Batch batch(keys, 4, 8 << 10);
  for (const auto& put : client_->BatchPut(*ns, std::span(batch.puts).first(8))) ASSERT_TRUE(put.ok());

  auto opened = KvClient::Open({.meta_address = cluster_.meta_address(), .timeout = std::chrono::seconds(2),
                                .poll_before_sleep = std::chrono::microseconds(200)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  KvClient& polling = **opened;
  auto same = polling.OpenNamespace({.model = "polling", .dtype = "fp16"});
  ASSERT_TRUE(same.ok()) << same.status();
  auto prefix = polling.LookupPrefix(*same, keys);
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  EXPECT_EQ(*prefix, 8u);
  const std::vector<Result<bool>> got = polling.BatchGet(*same, batch.gets);
  ASSERT_EQ(got.size(), keys.size());
  for (size_t i = 0; i < got.size(); i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    EXPECT_EQ(*got[i], i < 8) << i;
    if (i < 8) {
      EXPECT_TRUE(batch.Matches(i)) << i;
    }
  }
  opened->reset();  // closes the spinning shard
}

// Batches whose results go to callbacks on the client's thread: every callback comes, once,
// with what a waited-for batch would have had, and batches finish in any order.
TEST_F(KvClientTest, CallbacksGetEachBatchsResultsOnce) {
  auto ns = client_->OpenNamespace({.model = "callbacks", .dtype = "fp16"});
  ASSERT_TRUE(ns.ok()) << ns.status();
  constexpr size_t kBatches = 8;
  auto [keys, batches] = Batches(kBatches, "callbacks", 5, 2, 8 << 10);
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<int> calls(kBatches, 0);
  std::vector<std::vector<Result<KvPutResult>>> put_results(kBatches);
  for (size_t b = 0; b < kBatches; b++) {
    // Half the batches are put, the other half stay absent.
    if (b % 2 == 1) continue;
    client_->BatchPutAsync(*ns, batches[b]->puts, [&, b](std::vector<Result<KvPutResult>> results) {
      std::lock_guard lock(mutex);
      put_results[b] = std::move(results);
      calls[b]++;
      changed.notify_all();
    });
  }
  const auto wait_for_calls = [&](size_t expected) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] {
      return static_cast<size_t>(std::count_if(calls.begin(), calls.end(), [](int c) { return c > 0; })) >= expected;
    });
  };
  ASSERT_TRUE(wait_for_calls(kBatches / 2));
  for (size_t b = 0; b < kBatches; b += 2) {
    ASSERT_EQ(put_results[b].size(), keys[b].size());
    for (const auto& result : put_results[b]) EXPECT_TRUE(result.ok() && *result == KvPutResult::kStored);
  }
  std::fill(calls.begin(), calls.end(), 0);
  std::vector<std::vector<Result<bool>>> got(kBatches);
  for (size_t b = 0; b < kBatches; b++) {
    client_->BatchGetAsync(*ns, batches[b]->gets, [&, b](std::vector<Result<bool>> results) {
      std::lock_guard lock(mutex);
      got[b] = std::move(results);
      calls[b]++;
      changed.notify_all();
    });
  }
  ASSERT_TRUE(wait_for_calls(kBatches));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a second call would show now
  std::lock_guard lock(mutex);
  for (size_t b = 0; b < kBatches; b++) {
    EXPECT_EQ(calls[b], 1) << b;
    ASSERT_EQ(got[b].size(), keys[b].size());
    for (size_t i = 0; i < got[b].size(); i++) {
      ASSERT_TRUE(got[b][i].ok()) << got[b][i].status();
      EXPECT_EQ(*got[b][i], b % 2 == 0) << b << "/" << i;
      if (b % 2 == 0) {
        EXPECT_TRUE(batches[b]->Matches(i)) << b << "/" << i;
      }
    }
  }
}

TEST_F(KvClientTest, NamespacesAreIsolatedAndBadInputIsRefused) {
  auto a = client_->OpenNamespace({.model = "m", .dtype = "fp8", .tenant = "a"});
  auto b = client_->OpenNamespace({.model = "m", .dtype = "fp8", .tenant = "b", .value_bytes_max = 1000});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->id, b->id);
  const std::vector<KvKey> keys = Keys(1, "shared");
  Batch batch(keys, 1, 4096);
  ASSERT_TRUE(client_->BatchPut(*a, batch.puts)[0].ok());
  EXPECT_EQ(*client_->LookupPrefix(*b, keys), 0u) << "tenant b sees tenant a's entry";
  EXPECT_FALSE(*client_->BatchGet(*b, batch.gets)[0]);
  EXPECT_EQ(client_->BatchPut(*b, batch.puts)[0].status().code(), StatusCode::kOutOfRange);

  // Buffers that do not match the stored pieces: refused, not overrun.
  Batch other_shape(keys, 2, 2048);
  EXPECT_EQ(client_->BatchGet(*a, other_shape.gets)[0].status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(client_->OpenNamespace({.model = "bad/model", .dtype = "bf16"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->OpenNamespace({.model = "m"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->OpenNamespace({.model = "m", .dtype = "bf16", .replicas = 4}).status().code(),
            StatusCode::kInvalidArgument);
  KvNamespace unknown = *a;
  unknown.id = 999;
  EXPECT_EQ(client_->BatchPut(unknown, batch.puts)[0].status().code(), StatusCode::kNotFound);
}

// With one replica, entries on a lost node become misses, never errors; with two, every entry
// is still a hit.
TEST_F(KvClientTest, ALostNodeGivesMissesWithOneReplicaAndHitsWithTwo) {
  auto one = client_->OpenNamespace({.model = "m", .dtype = "bf16", .layout = "r1"});
  auto two = client_->OpenNamespace({.model = "m", .dtype = "bf16", .layout = "r2", .replicas = 2});
  ASSERT_TRUE(one.ok() && two.ok());
  const std::vector<KvKey> keys = Keys(60, "loss");
  Batch batch(keys, 4, 1024);
  for (const KvNamespace& ns : {*one, *two}) {
    for (const auto& result : client_->BatchPut(ns, batch.puts)) ASSERT_TRUE(result.ok()) << result.status();
  }
  cluster_.Kill(2);
  Batch after_one(keys, 4, 1024);
  auto got = client_->BatchGet(*one, after_one.gets);
  size_t hits = 0;
  for (size_t i = 0; i < keys.size(); i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    if (*got[i]) {
      hits++;
      EXPECT_TRUE(after_one.Matches(i));
    }
  }
  EXPECT_GT(hits, 0u);
  EXPECT_LT(hits, keys.size()) << "no key was on the lost node";
  Batch after_two(keys, 4, 1024);
  got = client_->BatchGet(*two, after_two.gets);
  for (size_t i = 0; i < keys.size(); i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    EXPECT_TRUE(*got[i]) << i;
    EXPECT_TRUE(after_two.Matches(i)) << i;
  }
  auto prefix = client_->LookupPrefix(*two, keys);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(*prefix, keys.size());
  // New puts go to the nodes left.
  const std::vector<KvKey> more = Keys(70, "after-loss");
  Batch fresh(more, 1, 512);
  for (const auto& result : client_->BatchPut(*one, fresh.puts)) EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*client_->LookupPrefix(*one, more), more.size());
}

// A working set past the DRAM tier: the node demotes to its SSD tier and gets read from it,
// through the rpc path, straight into the caller's piece buffers.
TEST(KvClientSsdTest, GetsAreServedFromTheSsdTierPastDram) {
  testing::TestDirectory directory("kv-client-ssd");
  server::LocalCluster cluster({.directory = directory / "cluster", .storage_nodes = 1, .replicas = 1,
                                .kv_dram_bytes = 32ull << 20, .kv_ssd_bytes = 256ull << 20});
  auto opened = KvClient::Open({.meta_address = cluster.meta_address(), .timeout = std::chrono::seconds(5)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<KvClient> client = std::move(*opened);
  auto ns = client->OpenNamespace({.model = "ssd-model", .dtype = "fp16"});
  ASSERT_TRUE(ns.ok()) << ns.status();
  const std::vector<KvKey> keys = Keys(60, "ssd");  // 120 MiB of 2 MiB values
  for (size_t first = 0; first < keys.size(); first += 6) {
    Batch batch(std::span<const KvKey>(keys).subspan(first, 6), 64, 32 << 10);
    for (const auto& result : client->BatchPut(*ns, batch.puts)) ASSERT_TRUE(result.ok()) << result.status();
  }
  auto stats = client->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->demoted, 20u);
  for (size_t first = 0; first < keys.size(); first += 6) {
    Batch wanted(std::span<const KvKey>(keys).subspan(first, 6), 64, 32 << 10);
    auto got = client->BatchGet(*ns, wanted.gets);
    for (size_t i = 0; i < got.size(); i++) {
      ASSERT_TRUE(got[i].ok()) << got[i].status();
      EXPECT_TRUE(*got[i]) << first + i;
      EXPECT_TRUE(wanted.Matches(i)) << first + i;
    }
  }
  stats = client->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->ssd_hits, 20u);
  EXPECT_EQ(stats->hits, keys.size());
}

// Same host: values move through a shared region, and items outside it still go by TCP.
TEST_F(KvClientTest, SharedMemoryCarriesValuesOnTheSameHost) {
  auto ns = client_->OpenNamespace({.model = "shm-model", .dtype = "bf16"});
  ASSERT_TRUE(ns.ok()) << ns.status();
  auto shared = client_->AllocateShared(64 << 20);
  ASSERT_TRUE(shared.ok()) << shared.status();
  const std::vector<KvKey> keys = Keys(12, "shm");
  constexpr size_t kPieces = 64, kPiece = 32 << 10, kValue = kPieces * kPiece;
  // Values 0-7 written in the region (0-7 at 2 MiB each), 8-11 in ordinary memory.
  std::vector<std::vector<std::byte>> ordinary(4, std::vector<std::byte>(kValue));
  std::vector<KvPutItem> puts;
  for (size_t i = 0; i < keys.size(); i++) {
    std::span<std::byte> value = i < 8 ? shared->subspan(i * kValue, kValue) : std::span<std::byte>(ordinary[i - 8]);
    for (size_t b = 0; b < kValue; b++) value[b] = static_cast<std::byte>((b * 31 + i * 7) >> 3);
    KvPutItem put{.key = keys[i]};
    for (size_t p = 0; p < kPieces; p++) put.pieces.push_back(value.subspan(p * kPiece, kPiece));
    puts.push_back(std::move(put));
  }
  for (const auto& result : client_->BatchPut(*ns, puts)) ASSERT_TRUE(result.ok()) << result.status();
  auto after_puts = client_->Stats();
  ASSERT_TRUE(after_puts.ok());
  EXPECT_GE(after_puts->shm_regions, 1u);
  EXPECT_EQ(after_puts->shm_bytes, 8 * kValue);
  // Gets: 0-5 into the region (at 32 MiB on), the rest into ordinary buffers.
  std::vector<std::vector<std::byte>> into(keys.size() - 6, std::vector<std::byte>(kValue));
  std::vector<KvGetItem> gets;
  std::vector<std::span<std::byte>> targets;
  for (size_t i = 0; i < keys.size(); i++) {
    std::span<std::byte> target =
        i < 6 ? shared->subspan((16 + i) * kValue, kValue) : std::span<std::byte>(into[i - 6]);
    targets.push_back(target);
    KvGetItem get{.key = keys[i]};
    for (size_t p = 0; p < kPieces; p++) get.pieces.push_back(target.subspan(p * kPiece, kPiece));
    gets.push_back(std::move(get));
  }
  auto got = client_->BatchGet(*ns, gets);
  for (size_t i = 0; i < keys.size(); i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    ASSERT_TRUE(*got[i]) << i;
    for (size_t b = 0; b < kValue; b += 4093) {
      ASSERT_EQ(targets[i][b], static_cast<std::byte>((b * 31 + i * 7) >> 3)) << i << " at " << b;
    }
  }
  auto after_gets = client_->Stats();
  ASSERT_TRUE(after_gets.ok());
  EXPECT_EQ(after_gets->shm_bytes, 14 * kValue);
  // Wrong piece shapes are refused through shared memory too.
  KvGetItem wrong{.key = keys[0], .pieces = {shared->subspan(40 * kValue, kValue)}};
  auto refused = client_->BatchGet(*ns, std::span(&wrong, 1));
  EXPECT_EQ(refused[0].status().code(), StatusCode::kInvalidArgument);
}

// A batch larger than one call carries (64 MiB, an rpc frame's payload) is cut into calls.
TEST(KvClientBatchTest, BatchesOverOneCallAreCutIntoCalls) {
  testing::TestDirectory directory("kv-client-big-batch");
  server::LocalCluster cluster({.directory = directory / "cluster", .storage_nodes = 1, .replicas = 1,
                                .kv_dram_bytes = 512ull << 20, .kv_ssd_bytes = 0});
  auto opened = KvClient::Open({.meta_address = cluster.meta_address(), .timeout = std::chrono::seconds(5)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  auto ns = (*opened)->OpenNamespace({.model = "big-batch", .dtype = "bf16"});
  ASSERT_TRUE(ns.ok()) << ns.status();
  const std::vector<KvKey> keys = Keys(48, "big-batch");  // 96 MiB of 2 MiB values
  Batch batch(keys, 64, 32 << 10);
  for (const auto& result : (*opened)->BatchPut(*ns, batch.puts)) ASSERT_TRUE(result.ok()) << result.status();
  Batch wanted(keys, 64, 32 << 10);
  auto got = (*opened)->BatchGet(*ns, wanted.gets);
  for (size_t i = 0; i < keys.size(); i++) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    EXPECT_TRUE(*got[i]) << i;
    EXPECT_TRUE(wanted.Matches(i)) << i;
  }
}

}  // namespace
}  // namespace cerulean
