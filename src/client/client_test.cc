// The native client end to end against real servers: an embedded all-in-one server, and a
// cluster of one meta and four storage nodes (R = 3) in this process, over loopback rpc.
#include "cerulean/client.h"
#include "client/etag.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "base/logging.h"
#include "base/metrics.h"
#include "runtime/test_directory.h"
#include "runtime/uring/shard_set.h"
#include "server/local_cluster.h"

namespace cerulean {
namespace {

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937_64 random(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = random();
    std::memcpy(data.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return data;
}

std::span<std::byte> Writable(std::string& text) { return std::as_writable_bytes(std::span(text)); }

TEST(ClientTest, EmbeddedServerRoundTrips) {
  testing::TestDirectory directory("client-embedded");
  auto opened = Client::Open({.embedded_directory = directory / "data", .piece_bytes = 1 << 20});
  ASSERT_TRUE(opened.ok()) << opened.status();
  Client& client = **opened;

  EXPECT_EQ(client.CreateContainer("Bad_Name").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(client.CreateContainer("data", {.metadata = {{"team", "ml"}}}).ok());
  EXPECT_EQ(client.CreateContainer("data").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(client.Put("nowhere", "x", std::string_view("1")).status().code(), StatusCode::kNotFound);

  // 0 B, 1 B, one piece, and several pieces with a ragged end.
  for (size_t size : {size_t{0}, size_t{1}, size_t{1} << 20, (size_t{5} << 20) + 12345}) {
    const std::string name = fmt::format("objects/{}", size);
    const std::string data = RandomBytes(size, static_cast<uint32_t>(size));
    auto put = client.Put("data", name, data, {.content_type = "application/x-test", .metadata = {{"k", "v"}}});
    ASSERT_TRUE(put.ok()) << put.status();
    EXPECT_EQ(put->size, size);
    EXPECT_EQ(put->pieces, (size + (1 << 20) - 1) >> 20);
    auto got = client.Get("data", name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == data) << "object of " << size << " bytes came back changed";
    auto head = client.Head("data", name);
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->etag, put->etag);
    EXPECT_EQ(head->content_type, "application/x-test");
    EXPECT_EQ(head->metadata, (UserMetadata{{"k", "v"}}));
    EXPECT_EQ(head->crc32c, put->crc32c);
  }
  // A single-piece object's ETag is its MD5, as S3 clients expect.
  EXPECT_EQ(client.Head("data", "objects/0")->etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(client.Put("data", "abc", std::string_view("abc"))->etag, "\"900150983cd24fb0d6963f7d28e17f72\"");
  // A multi-piece one has a composite ETag with its piece count.
  EXPECT_TRUE(client.Head("data", fmt::format("objects/{}", (5 << 20) + 12345))->etag.ends_with("-6\""));

  // Ranges: inside a piece, across pieces, clipped at the end, at the end, past it.
  const size_t big_size = (5 << 20) + 12345;
  const std::string big = RandomBytes(big_size, static_cast<uint32_t>(big_size));
  const std::string big_name = fmt::format("objects/{}", big_size);
  for (auto [offset, length] : std::vector<std::pair<size_t, size_t>>{
           {0, 10}, {100, 4096}, {(1 << 20) - 5, 10}, {(2 << 20) - 100, (2 << 20) + 200}, {big_size - 7, 100}}) {
    std::string into(length, '\0');
    auto got = client.GetRange("data", big_name, offset, Writable(into));
    ASSERT_TRUE(got.ok()) << got.status();
    const size_t expected = std::min(length, big_size - offset);
    EXPECT_EQ(*got, expected);
    EXPECT_TRUE(into.substr(0, expected) == big.substr(offset, expected)) << "range at " << offset;
  }
  std::string none(4, '\0');
  EXPECT_EQ(*client.GetRange("data", big_name, big_size, Writable(none)), 0u);
  EXPECT_EQ(client.GetRange("data", big_name, big_size + 1, Writable(none)).status().code(), StatusCode::kOutOfRange);

  // Streams, both ways, and async and batched reads.
  std::istringstream in(big);
  auto streamed = client.PutStream("data", "streamed", in);
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_EQ(streamed->size, big_size);
  EXPECT_EQ(streamed->crc32c, client.Head("data", big_name)->crc32c);
  std::ostringstream out;
  uint64_t last_progress = 0;
  auto written = client.GetToStream("data", "streamed", out, [&](uint64_t done, uint64_t) { last_progress = done; });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(out.str() == big);
  EXPECT_EQ(last_progress, big_size);
  std::string first(1000, '\0');
  std::string second(1000, '\0');
  auto future = client.GetRangeAsync("data", "streamed", 5000, Writable(first));
  std::vector<Result<size_t>> batch = client.BatchGet({{"data", "streamed", 7000, 1000, Writable(second)},
                                                       {"data", "missing", 0, 10, Writable(second)}});
  EXPECT_EQ(*future.get(), 1000u);
  EXPECT_TRUE(first == big.substr(5000, 1000));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(*batch[0], 1000u);
  EXPECT_TRUE(second == big.substr(7000, 1000));
  EXPECT_EQ(batch[1].status().code(), StatusCode::kNotFound);

  // Conditions.
  const std::string etag = client.Head("data", "abc")->etag;
  EXPECT_EQ(client.Put("data", "abc", std::string_view("x"), {.if_none_match = "*"}).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.Put("data", "abc", std::string_view("x"), {.if_match = "\"other\""}).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(client.Put("data", "abc", std::string_view("xyz"), {.if_match = etag}).ok());
  EXPECT_EQ(*client.Get("data", "abc"), "xyz");
  EXPECT_EQ(client.Get("data", "abc", {.if_match = etag}).status().code(), StatusCode::kFailedPrecondition);

  // Listing through the iterator, across pages.
  std::vector<std::string> names;
  ObjectIterator walk = client.List("data", {.prefix = "objects/", .page_size = 2});
  while (true) {
    auto next = walk.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (!*next) break;
    names.push_back((*next)->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"objects/0", "objects/1", "objects/1048576", "objects/5255225"}));
  auto page = client.ListPage("data", {.delimiter = "/"});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"objects/"});

  EXPECT_EQ(client.DeleteContainer("data").code(), StatusCode::kFailedPrecondition);
  for (const char* name : {"abc", "streamed", "objects/0", "objects/1", "objects/1048576", "objects/5255225"}) {
    EXPECT_TRUE(client.Delete("data", name).ok()) << name;
  }
  EXPECT_EQ(client.Delete("data", "abc").code(), StatusCode::kNotFound);
  EXPECT_EQ(client.Get("data", "abc").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(client.DeleteContainer("data").ok());
  EXPECT_TRUE(client.ListContainers()->empty());
}

// A client whose thread spins for responses before it sleeps works as one that sleeps at once:
// every call is answered, ranges and all, and it closes.
TEST(ClientTest, APollingClientRoundTripsAndCloses) {
  testing::TestDirectory directory("client-polling");
  auto opened = Client::Open({.embedded_directory = directory / "data", .piece_bytes = 1 << 20,
                              .poll_before_sleep = std::chrono::microseconds(200)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  Client& client = **opened;
  ASSERT_TRUE(client.CreateContainer("data").ok());
  for (size_t size : {size_t{0}, size_t{4096}, (size_t{3} << 20) + 7}) {
    const std::string data = RandomBytes(size, static_cast<uint32_t>(size) + 1);
    ASSERT_TRUE(client.Put("data", fmt::format("o{}", size), data).ok());
    auto got = client.Get("data", fmt::format("o{}", size));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == data) << size;
  }
  std::string into(100, '\0');
  auto ranged = client.GetRange("data", "o4096", 4000, Writable(into));
  ASSERT_TRUE(ranged.ok()) << ranged.status();
  EXPECT_EQ(into.substr(0, 96), RandomBytes(4096, 4097).substr(4000));
  EXPECT_EQ(client.Head("data", "missing").status().code(), StatusCode::kNotFound);
  opened->reset();  // closes the spinning shard
}

TEST(ClientTest, StagedUploadsAsS3PartsAndAzureBlocks) {
  testing::TestDirectory directory("client-staged");
  auto opened = Client::Open({.embedded_directory = directory / "data", .piece_bytes = 1 << 20});
  ASSERT_TRUE(opened.ok()) << opened.status();
  Client& client = **opened;
  ASSERT_TRUE(client.CreateContainer("staged").ok());
  const auto bytes = [](const std::string& text) { return std::as_bytes(std::span(text.data(), text.size())); };

  // S3: parts staged out of order (one of several pieces), completed in part order.
  auto upload = client.CreateUpload("staged", "model.bin", {.content_type = "application/x-model"});
  ASSERT_TRUE(upload.ok()) << upload.status();
  const std::string part1 = RandomBytes((2 << 20) + 7, 1);
  const std::string part2 = RandomBytes(1000, 2);
  ASSERT_TRUE(client.StageBlock("staged", "model.bin", *upload, "00002", bytes(part2)).ok());
  auto staged1 = client.StageBlock("staged", "model.bin", *upload, "00001", bytes(part1));
  ASSERT_TRUE(staged1.ok()) << staged1.status();
  EXPECT_EQ(staged1->size, part1.size());
  EXPECT_EQ(staged1->etag, client::Md5Etag(bytes(part1)));
  // Without MD5 a block's ETag is the composite of its three pieces' CRCs.
  auto composite = client.StageBlock("staged", "model.bin", *upload, "00001", bytes(part1), {.md5_etag = false});
  ASSERT_TRUE(composite.ok()) << composite.status();
  EXPECT_TRUE(composite->etag.ends_with("-3\"")) << composite->etag;
  EXPECT_EQ(client.ListUploads("staged")->size(), 1u);
  EXPECT_EQ(client.ListBlocks("staged", "model.bin", *upload)->uncommitted.size(), 2u);
  EXPECT_FALSE(client.Head("staged", "model.bin").ok());  // nothing visible before the commit
  auto missing = client.CommitBlocks("staged", "model.bin", *upload, {{"00001", BlockSource::kUncommitted}, {"00003", BlockSource::kUncommitted}});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  auto completed = client.CommitBlocks("staged", "model.bin", *upload,
                                       {{"00001", BlockSource::kUncommitted}, {"00002", BlockSource::kUncommitted}});
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_TRUE(completed->etag.ends_with("-2\""));
  EXPECT_EQ(completed->content_type, "application/x-model");
  EXPECT_TRUE(*client.Get("staged", "model.bin") == part1 + part2);
  EXPECT_TRUE(client.ListUploads("staged")->empty());

  auto aborted = client.CreateUpload("staged", "other");
  ASSERT_TRUE(client.StageBlock("staged", "other", *aborted, "00001", bytes(part2)).ok());
  EXPECT_TRUE(client.AbortUpload("staged", "other", *aborted).ok());
  EXPECT_EQ(client.AbortUpload("staged", "other", *aborted).code(), StatusCode::kNotFound);
  EXPECT_EQ(client.StageBlock("staged", "other", *aborted, "00001", bytes(part2)).status().code(), StatusCode::kNotFound);

  // Azure: blocks under the blob; a later list reuses a committed block and adds a new one.
  ASSERT_TRUE(client.StageBlock("staged", "blob", "", "QQ==", bytes("first ")).ok());
  ASSERT_TRUE(client.StageBlock("staged", "blob", "", "Qg==", bytes("second ")).ok());
  ASSERT_TRUE(client.CommitBlocks("staged", "blob", "", {{"QQ==", BlockSource::kLatest}, {"Qg==", BlockSource::kLatest}}).ok());
  EXPECT_EQ(*client.Get("staged", "blob"), "first second ");
  ASSERT_TRUE(client.StageBlock("staged", "blob", "", "Qw==", bytes("third")).ok());
  auto list = client.ListBlocks("staged", "blob", "");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->committed.size(), 2u);
  EXPECT_EQ(list->uncommitted.size(), 1u);
  ASSERT_TRUE(client.CommitBlocks("staged", "blob", "", {{"Qg==", BlockSource::kCommitted}, {"Qw==", BlockSource::kUncommitted},
                                                           {"QQ==", BlockSource::kCommitted}}).ok());
  EXPECT_EQ(*client.Get("staged", "blob"), "second thirdfirst ");
}

TEST(ClientTest, ContentHeadersAndPropertiesUpdates) {
  testing::TestDirectory directory("client-properties");
  auto opened = Client::Open({.embedded_directory = directory / "data"});
  ASSERT_TRUE(opened.ok()) << opened.status();
  Client& client = **opened;
  ASSERT_TRUE(client.CreateContainer("props").ok());
  ASSERT_TRUE(client.SetContainerMetadata("props", {{"team", "vision"}}).ok());
  EXPECT_EQ(client.GetContainer("props")->metadata, (UserMetadata{{"team", "vision"}}));
  EXPECT_EQ(client.SetContainerMetadata("absent", {}).code(), StatusCode::kNotFound);

  PutOptions options;
  options.content_type = "text/plain";
  options.headers.content_encoding = "gzip";
  options.headers.cache_control = "max-age=60";
  options.metadata = {{"k", "v"}};
  auto put = client.Put("props", "o", std::string_view("hello"), options);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(client.Head("props", "o")->headers, options.headers);
  auto listed = client.ListPage("props");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->objects.at(0).headers.cache_control, "max-age=60");

  PropertiesUpdate update;
  update.content_type = "application/json";
  update.headers.content_language = "en";
  auto updated = client.SetProperties("props", "o", update, {.if_match = put->etag});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->etag, put->etag);
  EXPECT_EQ(updated->content_type, "application/json");
  EXPECT_EQ(updated->headers, update.headers);  // replaced, not merged
  EXPECT_EQ(updated->metadata, options.metadata);
  PropertiesUpdate metadata;
  metadata.metadata = UserMetadata{{"new", "1"}};
  EXPECT_EQ(client.SetProperties("props", "o", metadata)->metadata, *metadata.metadata);
  EXPECT_EQ(*client.Get("props", "o"), "hello");
  EXPECT_EQ(client.SetProperties("props", "o", metadata, {.if_match = "\"other\""}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(ClientTest, ListingsReadAheadButNeverHideTheClientsOwnWrites) {
  testing::TestDirectory directory("client-list-read-ahead");
  auto opened = Client::Open({.embedded_directory = directory / "data"});
  ASSERT_TRUE(opened.ok()) << opened.status();
  Client& client = **opened;
  ASSERT_TRUE(client.CreateContainer("walk").ok());
  for (int i = 0; i < 10; i++) ASSERT_TRUE(client.Put("walk", fmt::format("a{}", i), std::string_view("x")).ok());

  const auto walk = [&](const std::function<void(int page)>& between_pages) {
    std::vector<std::string> names;
    ListOptions options{.page_size = 3};
    for (int page = 0;; page++) {
      auto listed = client.ListPage("walk", options);
      EXPECT_TRUE(listed.ok()) << listed.status();
      if (!listed.ok()) break;
      // A name with "!" has content type text/plain (set between pages below).
      for (const ObjectInfo& object : listed->objects) {
        names.push_back(object.name + (object.content_type == "text/plain" ? "!" : ""));
      }
      if (!listed->truncated) break;
      options.start_after = listed->next_start_after;
      between_pages(page);
    }
    return names;
  };
  // Every page read ahead: each name once, in order.
  EXPECT_EQ(walk([](int) {}), (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}));
  // Writes of this client between pages land in the pages after, although those were asked for
  // before the writes.
  const auto changed = walk([&](int page) {
    if (page == 0) {
      EXPECT_TRUE(client.Put("walk", "a2x", std::string_view("y")).ok());
      EXPECT_TRUE(client.Delete("walk", "a4").ok());
    }
    if (page == 1) {
      EXPECT_TRUE(client.SetProperties("walk", "a7", {.content_type = "text/plain"}).ok());
    }
  });
  EXPECT_EQ(changed, (std::vector<std::string>{"a0", "a1", "a2", "a2x", "a3", "a5", "a6", "a7!", "a8", "a9"}));
}

uint64_t SharedReadBytes() {
  return DefaultMetrics()
      .GetCounter("cerulean_storage_shared_read_bytes_total", "Bytes read into same-host clients' shared memory")
      .value();
}

uint64_t SharedAppendBytes() {
  return DefaultMetrics()
      .GetCounter("cerulean_storage_shared_append_bytes_total", "Bytes appended from same-host clients' shared memory")
      .value();
}

// Flips one byte of `needle`'s first copy in the extent files under `directory`; false if none
// holds it.
bool CorruptOnDisk(const std::filesystem::path& directory, std::string_view needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".ext") continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    std::string head(16 << 20, '\0');
    file.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(file.gcount()));
    const size_t at = head.find(needle);
    if (at == std::string::npos) continue;
    file.clear();
    file.seekp(static_cast<std::streamoff>(at + needle.size() / 2));
    const char flipped = static_cast<char>(head[at + needle.size() / 2] ^ 0x40);
    file.write(&flipped, 1);
    return file.good();
  }
  return false;
}

TEST(ClientTest, SameHostReadsAndAppendsGoThroughSharedMemoryAndFailLikeTcpOnCorruptBytes) {
  testing::TestDirectory directory("client-shared-reads");
  server::LocalCluster cluster({.directory = directory / "cluster", .storage_nodes = 3, .replicas = 1,
                                .capacity_bytes_per_node = 8ull << 30});
  auto opened_shared = Client::Open({.meta_address = cluster.meta_address(), .piece_bytes = 1 << 20});
  auto opened_tcp = Client::Open({.meta_address = cluster.meta_address(), .piece_bytes = 1 << 20,
                                  .shared_memory = false});
  ASSERT_TRUE(opened_shared.ok() && opened_tcp.ok());
  Client& shared = **opened_shared;
  Client& tcp = **opened_tcp;
  ASSERT_TRUE(shared.CreateContainer("data").ok());
  const size_t size = (3 << 20) + 777;
  const std::string data = RandomBytes(size, 7);
  const uint64_t appended_before = SharedAppendBytes();
  ASSERT_TRUE(shared.Put("data", "object", data).ok());
  EXPECT_EQ(SharedAppendBytes() - appended_before, size) << "every piece through shared memory";
  ASSERT_TRUE(tcp.Put("data", "by-tcp", data).ok());
  EXPECT_EQ(SharedAppendBytes() - appended_before, size) << "none of the TCP client's";
  EXPECT_TRUE(*tcp.Get("data", "object") == data);
  EXPECT_TRUE(*shared.Get("data", "by-tcp") == data);
  ASSERT_TRUE(tcp.Delete("data", "by-tcp").ok());

  // Whole, and ranges on and off the 64 KiB sub-blocks and across pieces: the same bytes both
  // ways, and only the shared client's come through shared memory.
  const uint64_t before = SharedReadBytes();
  auto whole = shared.Get("data", "object");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(*whole == data);
  uint64_t expected_shared = size;
  for (auto [offset, length] : std::vector<std::pair<size_t, size_t>>{
           {0, 1}, {65536, 65536}, {65535, 3}, {(1 << 20) - 100, 200}, {12345, (2 << 20) + 1}, {size - 5, 5}}) {
    std::string via_shared(length, '\0');
    std::string via_tcp(length, '\0');
    ASSERT_EQ(*shared.GetRange("data", "object", offset, Writable(via_shared)), length);
    ASSERT_EQ(*tcp.GetRange("data", "object", offset, Writable(via_tcp)), length);
    EXPECT_TRUE(via_shared == data.substr(offset, length)) << "range at " << offset;
    EXPECT_TRUE(via_tcp == via_shared) << "range at " << offset;
    expected_shared += length;
  }
  EXPECT_EQ(SharedReadBytes() - before, expected_shared) << "every read of the shared client, and none of the TCP one's";

  // A flipped byte on disk: DataLoss either way, never the bytes.
  ASSERT_TRUE(CorruptOnDisk(directory / "cluster", std::string_view(data).substr(1500000, 64)));
  EXPECT_EQ(shared.Get("data", "object").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(tcp.Get("data", "object").status().code(), StatusCode::kDataLoss);
  std::string first_piece(4096, '\0');
  EXPECT_EQ(*shared.GetRange("data", "object", 0, Writable(first_piece)), 4096u) << "other pieces still read";
}

uint64_t AppendedBytes() {
  return DefaultMetrics().GetCounter("cerulean_storage_append_bytes_total", "Payload bytes appended").value();
}

// Extents that hold a few pieces each: every put fills the extents it was handed, often all of
// them at once, and moves on to fresh ones. Each piece is still appended once: the seal of a full
// extent never cuts an append its replicas acknowledged (ExtentStore::Freeze), so no commit is
// refused and no object is written twice; and a piece that meets several full extents in a row
// is not failed for it.
TEST(ClientTest, PutsThatFillTheirExtentsAppendEachPieceOnce) {
  testing::TestDirectory directory("client-full-extents");
  server::LocalCluster cluster({.directory = directory / "cluster", .storage_nodes = 3, .replicas = 1,
                                .capacity_bytes_per_node = 8ull << 30, .extent_bytes_max = 5ull << 20});
  for (bool shared_memory : {true, false}) {
    for (uint8_t replicas : {1, 3}) {
      auto opened = Client::Open({.meta_address = cluster.meta_address(), .piece_bytes = 1 << 20,
                                  .replicas = replicas, .shared_memory = shared_memory});
      ASSERT_TRUE(opened.ok()) << opened.status();
      Client& client = **opened;
      const std::string container = fmt::format("data-{}-{}", shared_memory ? "shared" : "tcp", replicas);
      ASSERT_TRUE(client.CreateContainer(container).ok());
      for (int object = 0; object < 3; object++) {
        const std::string data = RandomBytes((24 << 20) + 4096 * object + 7, 100 + object);
        const uint64_t before = AppendedBytes();
        auto put = client.Put(container, fmt::format("object-{}", object), data);
        ASSERT_TRUE(put.ok()) << container << ": " << put.status();
        // Exactly once with one replica. On a chain, a head may still write a piece that a frozen
        // successor then refuses: that append fails, and its bytes are cut by the seal; never a
        // second copy of the object.
        const uint64_t appended = AppendedBytes() - before;
        if (replicas == 1) {
          EXPECT_EQ(appended, data.size()) << container << " object " << object;
        } else {
          EXPECT_GE(appended, data.size() * replicas) << container << " object " << object;
          EXPECT_LT(appended, data.size() * (replicas + 1)) << container << " object " << object;
        }
        auto got = client.Get(container, fmt::format("object-{}", object));
        ASSERT_TRUE(got.ok()) << got.status();
        EXPECT_TRUE(*got == data) << container << " object " << object;
      }
    }
  }
}

uint64_t SharedCacheReadBytes() {
  return DefaultMetrics()
      .GetCounter("cerulean_storage_shared_cache_read_bytes_total", "Bytes same-host clients copied out of the read cache themselves")
      .value();
}

// Nodes with read caches: a same-host client maps them and copies whole pieces straight out of
// them, the first time (read into the cache) and the next (a hit); the bytes are the same as by
// TCP, and a piece's ranges too.
TEST(ClientTest, SameHostReadsCopyCachedPiecesOutOfTheNodesReadCaches) {
  testing::TestDirectory directory("client-cache-reads");
  server::LocalCluster cluster({.directory = directory / "cluster", .storage_nodes = 3, .replicas = 3,
                                .capacity_bytes_per_node = 8ull << 30, .read_cache_bytes_per_node = 64 << 20});
  auto opened = Client::Open({.meta_address = cluster.meta_address(), .piece_bytes = 1 << 20, .replicas = 3});
  auto opened_tcp = Client::Open({.meta_address = cluster.meta_address(), .piece_bytes = 1 << 20, .shared_memory = false});
  ASSERT_TRUE(opened.ok() && opened_tcp.ok());
  Client& client = **opened;
  ASSERT_TRUE(client.CreateContainer("data").ok());
  const size_t size = (5 << 20) + 4321;
  const std::string data = RandomBytes(size, 11);
  ASSERT_TRUE(client.Put("data", "object", data).ok());
  for (int round = 0; round < 2; round++) {
    const uint64_t before = SharedCacheReadBytes();
    auto got = client.Get("data", "object");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == data);
    EXPECT_EQ(SharedCacheReadBytes() - before, size) << "round " << round << ": every piece out of a node's cache";
  }
  std::string range(300'000, '\0');
  ASSERT_EQ(*client.GetRange("data", "object", (1 << 20) - 1000, Writable(range)), range.size());
  EXPECT_TRUE(range == data.substr((1 << 20) - 1000, range.size()));
  auto by_tcp = (*opened_tcp)->Get("data", "object");
  ASSERT_TRUE(by_tcp.ok());
  EXPECT_TRUE(*by_tcp == data);
}

TEST(ClientTest, ClusterOfFourWithThreeReplicasSurvivesALostNode) {
  testing::TestDirectory directory("client-cluster");
  server::LocalCluster cluster({.directory = directory / "cluster", .storage_nodes = 4, .replicas = 3,
                                .capacity_bytes_per_node = 8ull << 30});
  auto opened = Client::Open({.meta_address = cluster.meta_address(), .piece_bytes = 256 << 10,
                              .timeout = std::chrono::milliseconds(3000)});
  ASSERT_TRUE(opened.ok()) << opened.status();
  Client& client = **opened;
  Status created = client.CreateContainer("stream");
  ASSERT_TRUE(created.ok()) << created;
  // Storage nodes register at start, so a put of data with three replicas works at once.
  auto first = client.Put("stream", "first", std::string_view("hello"));
  ASSERT_TRUE(first.ok()) << first.status();

  std::map<std::string, std::string> acknowledged;
  std::atomic<bool> writing = true;
  std::atomic<int> failures = 0;
  std::thread writer([&] {
    for (int i = 0; writing || i < 40; i++) {
      const std::string name = fmt::format("o{:04}", i);
      std::string data = RandomBytes(300'000 + i * 1000, i);
      auto put = client.Put("stream", name, data);
      if (put.ok()) acknowledged[name] = std::move(data);
      else failures++;
      if (i > 400) break;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  cluster.Kill(2);  // a storage node dies in the middle of the stream
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  writing = false;
  writer.join();
  // Puts kept succeeding on new chains: any failure is one that was in flight at the kill.
  EXPECT_LE(failures.load(), 1);
  EXPECT_GE(acknowledged.size(), 40u);
  for (const auto& [name, data] : acknowledged) {
    auto got = client.Get("stream", name);
    ASSERT_TRUE(got.ok()) << name << ": " << got.status();
    EXPECT_TRUE(*got == data) << name << " came back changed";
  }
}

}  // namespace
}  // namespace cerulean
