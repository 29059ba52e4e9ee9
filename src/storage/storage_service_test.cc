// The storage service over real rpc and a real disk: every method, vectorised reads with mixed
// outcomes, and malformed requests.
#include "storage/storage_service.h"

#include <gtest/gtest.h>

#include "base/check.h"
#include "base/crc32c.h"
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"
#include "runtime/test_directory.h"
#include "runtime/test_loop.h"
#include "shm/node_memory.h"
#include "shm/shared_region.h"
#include "storage/storage_messages.h"

namespace cerulean::storage {
namespace {

using cerulean::testing::RunOnLoop;

// A store on the real disk with the storage service in front of it, and a client of it.
struct ServedStore {
  explicit ServedStore(Env& env) : peers(env), server(env, registry), serving(env), client(env) {}

  static Task<std::unique_ptr<ServedStore>> Start(Env& env, const std::string& directory,
                                                  ExtentStoreOptions options = {}) {
    auto node = std::make_unique<ServedStore>(env);
    auto store = co_await ExtentStore::Open(env, directory, options);
    CHECK(store.ok()) << store.status();
    node->store = std::move(*store);
    RegisterStorageService(node->registry, *node->store, node->peers, node->regions);
    CHECK(node->server.Listen({"127.0.0.1", 0}).ok());
    node->serving.Spawn(node->server.Serve());
    co_return node;
  }

  Task<void> Stop() {
    co_await client.Close();
    co_await server.Shutdown();
    co_await serving.Join();
    co_await peers.Close();
    co_await store->Close();
  }

  std::unique_ptr<ExtentStore> store;
  rpc::ServiceRegistry registry;
  rpc::RpcClient peers;
  shm::ShmRegions regions;
  rpc::RpcServer server;
  TaskGroup serving;
  rpc::RpcClient client;
};

class StorageServiceTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"storage-service"};
  const std::string directory_ = temporary_ / "store";
};

TEST_F(StorageServiceTest, EveryMethodOverRpc) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto node = co_await ServedStore::Start(env, directory_);
    rpc::RpcChannel channel = node->client.Channel(node->server.address());

    auto created = co_await channel.Call(kCreateExtentMethod, rpc::EncodeMessage(CreateExtentRequest{.extent_id = 7}).span());
    EXPECT_TRUE(created.ok()) << created.status();
    auto again = co_await channel.Call(kCreateExtentMethod, rpc::EncodeMessage(CreateExtentRequest{.extent_id = 7}).span());
    EXPECT_TRUE(again.ok()) << again.status();  // retried create
    auto other = co_await channel.Call(kCreateExtentMethod,
                                       rpc::EncodeMessage(CreateExtentRequest{.extent_id = 7, .chain_version = 9}).span());
    EXPECT_EQ(other.status().code(), StatusCode::kAlreadyExists);

    // Three appends of different sizes.
    std::vector<std::vector<std::byte>> payloads;
    std::vector<AppendResponse> appended;
    for (size_t bytes : {size_t{10}, size_t{100'000}, size_t{4096}}) {
      std::vector<std::byte> payload(bytes);
      for (size_t i = 0; i < bytes; i++) payload[i] = std::byte((i * 13 + bytes) & 0xFF);
      iovec piece{payload.data(), payload.size()};
      auto result = co_await channel.Call(kAppendMethod, rpc::EncodeMessage(AppendRequest{.extent_id = 7}).span(), {&piece, 1});
      EXPECT_TRUE(result.ok()) << result.status();
      appended.push_back(*DecodeAppendResponse(result->message.span()));
      payloads.push_back(std::move(payload));
    }
    EXPECT_EQ(appended[1].payload_bytes, 100'000u);

    // One vectorised read: a whole record, a sub-range, a missing extent, a range past a payload.
    ReadRequest read{.ranges = {{7, appended[0].record_offset, 0, 10},
                                {7, appended[1].record_offset, 70'000, 20'000},
                                {99, appended[0].record_offset, 0, 1},
                                {7, appended[2].record_offset, 4000, 500}}};
    std::vector<std::byte> into(64 * 1024);
    auto answer = co_await channel.Call(kReadMethod, rpc::EncodeMessage(read).span(), {}, {.response_payload = into});
    EXPECT_TRUE(answer.ok()) << answer.status();
    auto outcomes = DecodeReadResponse(answer->message.span());
    EXPECT_TRUE(outcomes.ok());
    EXPECT_EQ(outcomes->outcomes.size(), 4u);
    EXPECT_EQ(outcomes->outcomes[0].code, StatusCode::kOk);
    EXPECT_EQ(outcomes->outcomes[1].code, StatusCode::kOk);
    EXPECT_EQ(outcomes->outcomes[2].code, StatusCode::kNotFound);
    EXPECT_EQ(outcomes->outcomes[3].code, StatusCode::kOutOfRange);
    EXPECT_EQ(answer->payload_bytes, 10u + 20'000u);
    EXPECT_EQ(std::memcmp(into.data(), payloads[0].data(), 10), 0);
    EXPECT_EQ(std::memcmp(into.data() + 10, payloads[1].data() + 70'000, 20'000), 0);

    auto length = co_await channel.Call(kExtentLengthMethod, rpc::EncodeMessage(ExtentRequest{.extent_id = 7}).span());
    auto length_decoded = DecodeExtentLengthResponse(length->message.span());
    EXPECT_EQ(length_decoded->length, appended[2].extent_length);
    EXPECT_FALSE(length_decoded->sealed);

    // Bytes changed on the way (a payload whose CRC is not the one it travels with): the store
    // finds it in its own checksum pass, refuses with DataLoss and stores nothing; the
    // connection goes on.
    {
      std::vector<std::byte> payload(70'000, std::byte{5});
      iovec piece{payload.data(), payload.size()};
      const uint32_t wrong_crc = Crc32c(std::span<const std::byte>(payload)) ^ 1;
      auto changed = co_await channel.Call(kAppendMethod, rpc::EncodeMessage(AppendRequest{.extent_id = 7}).span(),
                                           {&piece, 1}, {.payload_crc = wrong_crc});
      EXPECT_EQ(changed.status().code(), StatusCode::kDataLoss) << changed.status();
      auto unchanged = co_await channel.Call(kExtentLengthMethod, rpc::EncodeMessage(ExtentRequest{.extent_id = 7}).span());
      EXPECT_TRUE(unchanged.ok()) << unchanged.status();
      if (unchanged.ok()) {
        EXPECT_EQ(DecodeExtentLengthResponse(unchanged->message.span())->length, appended[2].extent_length);
      }
      auto right = co_await channel.Call(kAppendMethod, rpc::EncodeMessage(AppendRequest{.extent_id = 7}).span(), {&piece, 1});
      EXPECT_TRUE(right.ok()) << right.status();
      if (right.ok()) {
        EXPECT_EQ(DecodeAppendResponse(right->message.span())->record_offset, appended[2].extent_length);
      }
    }

    auto sealed = co_await channel.Call(kSealMethod, rpc::EncodeMessage(SealRequest{7, appended[1].extent_length}).span());
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    std::byte one{1};
    iovec tiny{&one, 1};
    auto refused = co_await channel.Call(kAppendMethod, rpc::EncodeMessage(AppendRequest{.extent_id = 7}).span(), {&tiny, 1});
    EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);

    auto stats = co_await channel.Call(kStorageStatsMethod, {});
    auto stats_decoded = DecodeStorageStatsResponse(stats->message.span());
    EXPECT_TRUE(stats_decoded.ok());
    EXPECT_EQ(stats_decoded->extent_count, 1u);
    EXPECT_GT(stats_decoded->capacity_bytes, stats_decoded->used_bytes);
    EXPECT_GE(stats_decoded->appends, 3u);
    EXPECT_GT(stats_decoded->append_latency_p50_ns, 0u);

    auto deleted = co_await channel.Call(kDeleteExtentMethod, rpc::EncodeMessage(ExtentRequest{.extent_id = 7}).span());
    EXPECT_TRUE(deleted.ok()) << deleted.status();
    auto gone = co_await channel.Call(kExtentLengthMethod, rpc::EncodeMessage(ExtentRequest{.extent_id = 7}).span());
    EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);

    // Malformed control fields: clear errors, and the server keeps serving.
    std::byte junk[3] = {};
    for (uint32_t method : {kCreateExtentMethod, kAppendMethod, kReadMethod, kSealMethod, kExtentLengthMethod,
                            kDeleteExtentMethod, kStorageStatsMethod}) {
      auto bad = co_await channel.Call(method, junk);
      EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << method;
    }
    ReadRequest too_many;
    too_many.ranges.resize(kReadRangesMax + 1);
    auto bad_read = co_await channel.Call(kReadMethod, rpc::EncodeMessage(too_many).span());
    EXPECT_EQ(bad_read.status().code(), StatusCode::kInvalidArgument);

    co_await node->Stop();
  });
}

TEST_F(StorageServiceTest, ReadsLandInARegisteredSharedRegion) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto node = co_await ServedStore::Start(env, directory_);
    rpc::RpcChannel channel = node->client.Channel(node->server.address());

    EXPECT_TRUE((co_await channel.Call(kCreateExtentMethod, rpc::EncodeMessage(CreateExtentRequest{.extent_id = 3}).span())).ok());
    std::vector<std::byte> payload(300'000);
    for (size_t i = 0; i < payload.size(); i++) payload[i] = std::byte((i * 7 + i / 4096) & 0xFF);
    iovec piece{payload.data(), payload.size()};
    auto appended = co_await channel.Call(kAppendMethod, rpc::EncodeMessage(AppendRequest{.extent_id = 3}).span(), {&piece, 1});
    EXPECT_TRUE(appended.ok()) << appended.status();
    const uint64_t record = DecodeAppendResponse(appended->message.span())->record_offset;

    auto region = shm::SharedRegion::Create(0x5eed, 4 * ReadLandingBytes(payload.size()));
    EXPECT_TRUE(region.ok());
    const uint64_t slot = ReadLandingBytes(payload.size());
    ReadSharedRequest read{.region = (*region)->id(),
                           .ranges = {{.range = {3, record, 0, payload.size()}, .at = 0, .room = slot},
                                      {.range = {3, record, 70'001, 100'000}, .at = slot, .room = slot},
                                      {.range = {4, record, 0, 1}, .at = 2 * slot, .room = slot},
                                      {.range = {3, record, 0, payload.size()}, .at = 3 * slot, .room = 8192}}};
    auto unregistered = co_await channel.Call(kReadSharedMethod, rpc::EncodeMessage(read).span());
    EXPECT_EQ(unregistered.status().code(), StatusCode::kNotFound) << "a region the node never mapped";
    auto registered = co_await channel.Call(kShmRegisterMethod, rpc::EncodeMessage((*region)->Registration()).span());
    EXPECT_TRUE(registered.ok()) << registered.status();

    auto answer = co_await channel.Call(kReadSharedMethod, rpc::EncodeMessage(read).span());
    EXPECT_TRUE(answer.ok()) << answer.status();
    auto response = DecodeReadSharedResponse(answer->message.span());
    EXPECT_TRUE(response.ok() && response->outcomes.size() == 4);
    if (response.ok() && response->outcomes.size() == 4) {
      const auto& outcomes = response->outcomes;
      const std::byte* base = (*region)->bytes().data();
      EXPECT_EQ(outcomes[0].code, StatusCode::kOk);
      EXPECT_EQ(outcomes[0].length, payload.size());
      EXPECT_EQ(std::memcmp(base + outcomes[0].offset, payload.data(), payload.size()), 0);
      EXPECT_EQ(outcomes[0].crc, Crc32c(std::span<const std::byte>(payload)));
      EXPECT_EQ(outcomes[1].code, StatusCode::kOk);
      EXPECT_GE(outcomes[1].offset, slot);
      EXPECT_EQ(std::memcmp(base + outcomes[1].offset, payload.data() + 70'001, 100'000), 0) << "an unaligned range";
      EXPECT_EQ(outcomes[1].crc, Crc32c(std::span<const std::byte>(payload).subspan(70'001, 100'000)));
      EXPECT_EQ(outcomes[2].code, StatusCode::kNotFound);
      EXPECT_EQ(outcomes[3].code, StatusCode::kInvalidArgument) << "too little room to land in";
    }
    // Room outside the region, and a malformed request: refused whole, the server serves on.
    ReadSharedRequest outside{.region = (*region)->id(),
                              .ranges = {{.range = {3, record, 0, 10}, .at = 4 * slot - 4096, .room = slot}}};
    auto refused = co_await channel.Call(kReadSharedMethod, rpc::EncodeMessage(outside).span());
    EXPECT_EQ(refused.status().code(), StatusCode::kOutOfRange);
    std::byte junk[5] = {};
    EXPECT_EQ((co_await channel.Call(kReadSharedMethod, junk)).status().code(), StatusCode::kInvalidArgument);
    shm::RegisterRequest elsewhere = (*region)->Registration();
    elsewhere.region = 0x07e4;
    elsewhere.fd = 0;  // this process's fd 0 is no memfd of that name
    EXPECT_EQ((co_await channel.Call(kShmRegisterMethod, rpc::EncodeMessage(elsewhere).span())).status().code(),
              StatusCode::kFailedPrecondition);

    auto unregistered_now = co_await channel.Call(kShmUnregisterMethod,
                                                  rpc::EncodeMessage(shm::UnregisterRequest{.region = (*region)->id()}).span());
    EXPECT_TRUE(unregistered_now.ok());
    EXPECT_EQ((co_await channel.Call(kReadSharedMethod, rpc::EncodeMessage(read).span())).status().code(),
              StatusCode::kNotFound);

    co_await node->Stop();
  });
}

TEST_F(StorageServiceTest, AppendsComeFromARegisteredSharedRegion) {
  RunOnLoop([&](Env& env) -> Task<void> {
    auto node = co_await ServedStore::Start(env, directory_);
    rpc::RpcChannel channel = node->client.Channel(node->server.address());
    EXPECT_TRUE((co_await channel.Call(kCreateExtentMethod, rpc::EncodeMessage(CreateExtentRequest{.extent_id = 5}).span())).ok());
    auto region = shm::SharedRegion::Create(0xa99e, 1 << 20);
    EXPECT_TRUE(region.ok());
    std::span<std::byte> memory = (*region)->bytes();
    const size_t bytes = 100'001;
    for (size_t i = 0; i < bytes; i++) memory[8192 + i] = std::byte((i * 31 + 7) & 0xFF);
    const uint32_t crc = Crc32c(memory.subspan(8192, bytes));
    AppendSharedRequest append{.append = {.extent_id = 5}, .region = (*region)->id(), .at = 8192, .bytes = bytes,
                               .room = 200'000, .payload_crc = crc};
    auto unregistered = co_await channel.Call(kAppendSharedMethod, rpc::EncodeMessage(append).span());
    EXPECT_EQ(unregistered.status().code(), StatusCode::kNotFound);
    EXPECT_TRUE((co_await channel.Call(kShmRegisterMethod, rpc::EncodeMessage((*region)->Registration()).span())).ok());

    auto appended = co_await channel.Call(kAppendSharedMethod, rpc::EncodeMessage(append).span());
    EXPECT_TRUE(appended.ok()) << appended.status();
    auto response = DecodeAppendResponse(appended->message.span());
    EXPECT_TRUE(response.ok() && response->payload_bytes == bytes && response->payload_crc == crc);
    std::vector<std::byte> back(bytes);
    ReadRequest read{.ranges = {{5, response->record_offset, 0, bytes}}};
    auto answer = co_await channel.Call(kReadMethod, rpc::EncodeMessage(read).span(), {}, {.response_payload = back});
    EXPECT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(std::memcmp(back.data(), memory.data() + 8192, bytes), 0) << "the record holds the region's bytes";

    // Bytes that are not what the client's CRC says: DataLoss, nothing stored. Bad places and
    // room: refused whole.
    const auto length_of_extent = [&]() -> Task<uint64_t> {
      auto length = co_await channel.Call(kExtentLengthMethod, rpc::EncodeMessage(ExtentRequest{.extent_id = 5}).span());
      co_return length.ok() ? DecodeExtentLengthResponse(length->message.span())->length : 0;
    };
    const uint64_t length_before = co_await length_of_extent();
    AppendSharedRequest changed = append;
    changed.payload_crc ^= 1;
    EXPECT_EQ((co_await channel.Call(kAppendSharedMethod, rpc::EncodeMessage(changed).span())).status().code(),
              StatusCode::kDataLoss);
    EXPECT_EQ(co_await length_of_extent(), length_before);
    AppendSharedRequest unaligned = append;
    unaligned.at = 8193;
    EXPECT_EQ((co_await channel.Call(kAppendSharedMethod, rpc::EncodeMessage(unaligned).span())).status().code(),
              StatusCode::kInvalidArgument);
    AppendSharedRequest outside = append;
    outside.at = (1 << 20) - 4096;
    EXPECT_EQ((co_await channel.Call(kAppendSharedMethod, rpc::EncodeMessage(outside).span())).status().code(),
              StatusCode::kOutOfRange);
    AppendSharedRequest cramped = append;
    cramped.room = bytes;  // no room to pad to 4 KiB
    EXPECT_EQ((co_await channel.Call(kAppendSharedMethod, rpc::EncodeMessage(cramped).span())).status().code(),
              StatusCode::kInvalidArgument);
    std::byte junk[7] = {};
    EXPECT_EQ((co_await channel.Call(kAppendSharedMethod, junk)).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(co_await length_of_extent(), length_before);
    co_await node->Stop();
  });
}

// A node with a read cache offers it at registration; a client that maps it gets cached records
// (hits, and whole records read into the cache) as places in it instead of copies in its region.
// A lent record stays in place for the loan, however many reads come meanwhile, and may be
// overwritten after it: bytes copied out then fail the CRC the answer gave.
TEST_F(StorageServiceTest, SameHostReadsOfCachedRecordsAreLentOutOfTheReadCache) {
  RunOnLoop([&](Env& env) -> Task<void> {
    ExtentStoreOptions options;
    // Four segments of 260 KiB (a read reserves its header block and the sub-blocks covering it).
    constexpr uint64_t kCacheBytes = 4 * (260 << 10);
    options.payload_cache = {.capacity_bytes = kCacheBytes, .record_bytes_max = 256 << 10};
    options.cache_loan = std::chrono::milliseconds(500);
    auto node = co_await ServedStore::Start(env, directory_, options);
    rpc::RpcChannel channel = node->client.Channel(node->server.address());
    EXPECT_TRUE((co_await channel.Call(kCreateExtentMethod, rpc::EncodeMessage(CreateExtentRequest{.extent_id = 5}).span())).ok());
    constexpr size_t kRecords = 6;
    constexpr size_t kBytes = 100'000;  // one a segment: each read reserves 132 KiB
    std::vector<std::vector<std::byte>> payloads;
    std::vector<uint64_t> records;
    for (size_t r = 0; r < kRecords; r++) {
      std::vector<std::byte> payload(kBytes);
      for (size_t i = 0; i < kBytes; i++) payload[i] = std::byte((i * 13 + r * 101 + i / 777) & 0xFF);
      iovec piece{payload.data(), payload.size()};
      auto appended = co_await channel.Call(kAppendMethod, rpc::EncodeMessage(AppendRequest{.extent_id = 5}).span(), {&piece, 1});
      EXPECT_TRUE(appended.ok()) << appended.status();
      if (!appended.ok()) co_return;
      records.push_back(DecodeAppendResponse(appended->message.span())->record_offset);
      payloads.push_back(std::move(payload));
    }
    auto region = shm::SharedRegion::Create(0xcace, ReadLandingBytes(kBytes));
    EXPECT_TRUE(region.ok());
    auto registered = co_await channel.Call(kShmRegisterMethod, rpc::EncodeMessage((*region)->Registration()).span());
    EXPECT_TRUE(registered.ok()) << registered.status();
    if (!registered.ok()) co_return;
    auto offered = shm::DecodeRegisterResponse(registered->message.span());
    EXPECT_TRUE(offered.ok() && offered->bytes == kCacheBytes) << "the read cache's memory is offered";
    auto cache = shm::NodeMemory::Map(*offered, kCacheMemoryNamePrefix);
    EXPECT_TRUE(cache.ok()) << cache.status();
    if (!cache.ok()) co_return;

    const auto read_shared = [&](size_t r, uint64_t offset, uint64_t length, bool from_cache) -> Task<SharedReadOutcome> {
      ReadSharedRequest read{.region = (*region)->id(), .from_cache = from_cache,
                             .ranges = {{.range = {5, records[r], offset, length}, .at = 0, .room = ReadLandingBytes(kBytes)}}};
      auto answer = co_await channel.Call(kReadSharedMethod, rpc::EncodeMessage(read).span());
      EXPECT_TRUE(answer.ok()) << answer.status();
      if (!answer.ok()) co_return SharedReadOutcome{.code = answer.status().code()};
      auto response = DecodeReadSharedResponse(answer->message.span());
      EXPECT_TRUE(response.ok() && response->outcomes.size() == 1);
      co_return response.ok() && response->outcomes.size() == 1 ? response->outcomes[0] : SharedReadOutcome{};
    };
    const auto matches = [&](const SharedReadOutcome& outcome, size_t r, uint64_t offset) {
      const std::byte* bytes = outcome.in_cache ? (*cache)->At(outcome.offset, outcome.length)
                                                : (*region)->bytes().data() + outcome.offset;
      return bytes != nullptr && outcome.code == StatusCode::kOk &&
             std::memcmp(bytes, payloads[r].data() + offset, outcome.length) == 0 &&
             Crc32c(bytes, outcome.length) == outcome.crc;
    };
    // A cold whole record is read into the cache and lent; then a hit, whole and in part.
    SharedReadOutcome cold = co_await read_shared(0, 0, kBytes, true);
    EXPECT_TRUE(cold.in_cache);
    EXPECT_TRUE(matches(cold, 0, 0));
    SharedReadOutcome hot = co_await read_shared(0, 1000, 5000, true);
    EXPECT_TRUE(hot.in_cache);
    EXPECT_TRUE(matches(hot, 0, 1000));
    // Without the flag, the same bytes are copied into the region.
    SharedReadOutcome copied = co_await read_shared(0, 0, kBytes, false);
    EXPECT_FALSE(copied.in_cache);
    EXPECT_TRUE(matches(copied, 0, 0));
    // Other records fill the cache over and over: record 0's lent bytes stay.
    for (int pass = 0; pass < 3; pass++) {
      for (size_t r = 1; r < kRecords; r++) EXPECT_TRUE(matches(co_await read_shared(r, 0, kBytes, false), r, 0));
    }
    EXPECT_TRUE(matches(cold, 0, 0)) << "lent bytes moved while on loan";
    // After the loan, they may go: a copy then fails its CRC, and is read again.
    EXPECT_TRUE((co_await Sleep(env, std::chrono::milliseconds(600))).ok());
    for (int pass = 0; pass < 3; pass++) {
      for (size_t r = 1; r < kRecords; r++) EXPECT_TRUE(matches(co_await read_shared(r, 0, kBytes, false), r, 0));
    }
    EXPECT_FALSE(matches(cold, 0, 0)) << "the cache reused the memory of a record no longer lent";
    EXPECT_TRUE(matches(co_await read_shared(0, 0, kBytes, true), 0, 0));
    // No room to land in: that range fails, and nothing is written outside the region.
    ReadSharedRequest roomless{.region = (*region)->id(), .from_cache = true,
                               .ranges = {{.range = {5, records[1], 0, 1000}, .at = ReadLandingBytes(kBytes), .room = 0}}};
    auto refused = co_await channel.Call(kReadSharedMethod, rpc::EncodeMessage(roomless).span());
    EXPECT_TRUE(refused.ok()) << refused.status();
    if (refused.ok()) {
      auto response = DecodeReadSharedResponse(refused->message.span());
      EXPECT_TRUE(response.ok() && response->outcomes.size() == 1 &&
                  response->outcomes[0].code == StatusCode::kInvalidArgument);
    }
    co_await node->Stop();
  });
}

}  // namespace
}  // namespace cerulean::storage
