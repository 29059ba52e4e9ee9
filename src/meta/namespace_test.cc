#include "meta/namespace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>

#include "meta/names.h"
#include "meta/rocksdb_metadata_store.h"
#include "runtime/sleep.h"
#include "runtime/test_directory.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"

namespace cerulean::meta {
namespace {

using cerulean::testing::RunOnLoop;

ObjectRecord Object(uint64_t size, std::string etag) {
  ObjectRecord record{.size = size, .etag = std::move(etag)};
  if (size > 0) record.pieces.push_back({.extent_id = 1, .record_offset = 4096, .length = uint32_t(size)});
  return record;
}

class NamespaceTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"ns"};
  const std::filesystem::path directory_ = temporary_ / "db";

  // Runs `body(namespace)` on a loop with a fresh store.
  template <typename Body>
  void Run(Body body) {
    RunOnLoop([&](Env& env) -> Task<void> {
      auto store = RocksDbMetadataStore::Open(env, directory_);
      EXPECT_TRUE(store.ok()) << store.status();
      Namespace names(env, **store);
      co_await body(env, names);
      co_await (*store)->Close();
    });
  }
};

TEST_F(NamespaceTest, ContainersCreateListDeleteOnlyWhenEmpty) {
  Run([](Env&, Namespace& ns) -> Task<void> {
    EXPECT_TRUE((co_await ns.CreateContainer("photos", {.created_unix_ns = 1})).ok());
    EXPECT_EQ((co_await ns.CreateContainer("photos", {})).code(), StatusCode::kAlreadyExists);
    EXPECT_EQ((co_await ns.CreateContainer("Bad_Name", {})).code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE((co_await ns.CreateContainer("photos-2", {})).ok());
    EXPECT_TRUE((co_await ns.CreateContainer("models", {})).ok());
    auto listed = ns.ListContainers("", "", 2);
    EXPECT_TRUE(listed.ok());
    EXPECT_EQ(listed->containers.size(), 2u);
    EXPECT_EQ(listed->containers[0].first, "models");
    EXPECT_TRUE(listed->truncated);
    auto rest = ns.ListContainers("", listed->next_start_after, 10);
    EXPECT_EQ(rest->containers.size(), 1u);
    EXPECT_EQ(rest->containers[0].first, "photos-2");
    EXPECT_FALSE(rest->truncated);
    EXPECT_EQ(ns.ListContainers("photos", "", 10)->containers.size(), 2u);

    EXPECT_TRUE((co_await ns.CommitObject("photos", "cat.jpg", Object(3, "\"e1\""))).ok());
    EXPECT_EQ((co_await ns.DeleteContainer("photos")).code(), StatusCode::kFailedPrecondition);
    EXPECT_TRUE((co_await ns.DeleteObject("photos", "cat.jpg")).ok());
    EXPECT_TRUE((co_await ns.DeleteContainer("photos")).ok());
    EXPECT_EQ((co_await ns.DeleteContainer("photos")).code(), StatusCode::kNotFound);
    EXPECT_EQ(ns.GetContainer("photos").status().code(), StatusCode::kNotFound);
    // The objects of "photos-2" are not "photos"'s: a put there after the delete is refused.
    EXPECT_EQ((co_await ns.CommitObject("photos", "x", Object(1, "\"e\""))).status().code(), StatusCode::kNotFound);
    UserMetadata team;  // (g++ 12 cannot build it from a braced list of literals in a coroutine)
    team.emplace_back("team", "ml");
    EXPECT_TRUE((co_await ns.SetContainerMetadata("models", team)).ok());
    EXPECT_EQ(ns.GetContainer("models")->metadata, team);
  });
}

TEST_F(NamespaceTest, OverwriteConditionsAndNames) {
  Run([](Env&, Namespace& ns) -> Task<void> {
    EXPECT_TRUE((co_await ns.CreateContainer("data", {})).ok());
    auto first = co_await ns.CommitObject("data", "a", Object(10, "\"v1\""), Conditions::IfNoneMatch("*"));
    EXPECT_TRUE(first.ok() && !first->has_value());
    // If-None-Match: * refuses an overwrite; If-Match needs the current ETag (quotes optional).
    EXPECT_EQ((co_await ns.CommitObject("data", "a", Object(1, "\"x\""), Conditions::IfNoneMatch("*"))).status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ((co_await ns.CommitObject("data", "a", Object(1, "\"x\""), Conditions::IfMatch("\"v0\""))).status().code(),
              StatusCode::kFailedPrecondition);
    auto second = co_await ns.CommitObject("data", "a", Object(20, "\"v2\""), Conditions::IfMatch("v1"));
    EXPECT_TRUE(second.ok());
    EXPECT_EQ((*second)->etag, "\"v1\"");  // the replaced record, for garbage accounting
    EXPECT_EQ(ns.HeadObject("data", "a")->size, 20u);
    EXPECT_EQ(ns.HeadObject("data", "a", Conditions::IfNoneMatch("\"v2\"")).status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(ns.HeadObject("data", "missing").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(ns.HeadObject("nothing", "a").status().code(), StatusCode::kNotFound);
    EXPECT_EQ((co_await ns.CommitObject("data", "b", Object(1, "\"x\""), Conditions::IfMatch("*"))).status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ((co_await ns.CommitObject("data", std::string(1025, 'n'), Object(1, "\"x\""))).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ((co_await ns.DeleteObject("data", "a", Conditions::IfMatch("\"v1\""))).status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_TRUE((co_await ns.DeleteObject("data", "a", Conditions::IfMatch("\"v2\""))).ok());
    EXPECT_EQ((co_await ns.DeleteObject("data", "a")).status().code(), StatusCode::kNotFound);
  });
}

TEST_F(NamespaceTest, SetPropertiesKeepsTheBytesAndTheEtag) {
  Run([](Env&, Namespace& ns) -> Task<void> {
    EXPECT_TRUE((co_await ns.CreateContainer("data", {})).ok());
    ObjectRecord original = Object(10, "\"v1\"");
    original.metadata = {{"a", "1"}};
    EXPECT_TRUE((co_await ns.CommitObject("data", "o", original)).ok());
    PropertiesUpdate content;
    content.set_content = true;
    content.content_type = "text/csv";
    content.headers.content_encoding = "gzip";
    auto updated = co_await ns.SetObjectProperties("data", "o", content, Conditions::IfMatch("\"v1\""));
    EXPECT_TRUE(updated.ok());
    auto head = ns.HeadObject("data", "o");
    EXPECT_EQ(head->content_type, "text/csv");
    EXPECT_EQ(head->headers.content_encoding, "gzip");
    EXPECT_EQ(head->metadata, original.metadata);  // untouched
    EXPECT_EQ(head->etag, "\"v1\"");
    EXPECT_EQ(head->pieces, original.pieces);
    PropertiesUpdate metadata;
    metadata.set_metadata = true;
    metadata.metadata = {{"b", "2"}};
    EXPECT_TRUE((co_await ns.SetObjectProperties("data", "o", metadata)).ok());
    EXPECT_EQ(ns.HeadObject("data", "o")->metadata, metadata.metadata);
    EXPECT_EQ(ns.HeadObject("data", "o")->content_type, "text/csv");
    EXPECT_EQ((co_await ns.SetObjectProperties("data", "o", metadata, Conditions::IfMatch("\"v0\""))).status().code(),
              StatusCode::kFailedPrecondition);
    EXPECT_EQ((co_await ns.SetObjectProperties("data", "missing", metadata)).status().code(), StatusCode::kNotFound);
    EXPECT_EQ((co_await ns.SetObjectProperties("none", "o", metadata)).status().code(), StatusCode::kNotFound);
  });
}

// Many concurrent overwrites of one name, with readers in between: every read sees one whole
// committed record (its size matches its pieces and its ETag), never a mix, and If-None-Match: *
// lets exactly one of many racing creators win.
TEST_F(NamespaceTest, ConcurrentWritersOfOneNameNeverInterleave) {
  Run([](Env& env, Namespace& ns) -> Task<void> {
    EXPECT_TRUE((co_await ns.CreateContainer("race", {})).ok());
    std::vector<Task<Result<std::optional<ObjectRecord>>>> creators;
    for (int i = 0; i < 20; i++) {
      creators.push_back(ns.CommitObject("race", "once", Object(i + 1, "\"" + std::to_string(i + 1) + "\""),
                                         Conditions::IfNoneMatch("*")));
    }
    int winners = 0;
    for (auto& result : co_await WhenAll(std::move(creators))) winners += result.ok();
    EXPECT_EQ(winners, 1);

    std::vector<Task<void>> work;
    for (int i = 0; i < 50; i++) {
      work.push_back([](Namespace& names, int n) -> Task<void> {
        auto written = co_await names.CommitObject("race", "hot", Object(n, "\"" + std::to_string(n) + "\""));
        EXPECT_TRUE(written.ok()) << written.status();
      }(ns, i + 1));
    }
    bool writers_done = false;
    work.push_back([](Env& e, Namespace& names, bool* done) -> Task<void> {
      size_t reads = 0;
      while (!*done) {
        auto head = names.HeadObject("race", "hot");
        if (head.ok()) {  // one whole record: its size, pieces and ETag agree
          EXPECT_EQ(head->etag, "\"" + std::to_string(head->size) + "\"");
          EXPECT_EQ(head->pieces.size(), 1u);
          reads++;
        }
        co_await Yield(e);
      }
      EXPECT_GT(reads, 0u);
    }(env, ns, &writers_done));
    // The reader stops when every writer has finished: a task that waits for them.
    std::vector<Task<void>> writers(std::make_move_iterator(work.begin()), std::make_move_iterator(work.begin() + 50));
    std::vector<Task<void>> others;
    others.push_back(std::move(work[50]));
    others.push_back([](std::vector<Task<void>> w, bool* done) -> Task<void> {
      co_await WhenAll(std::move(w));
      *done = true;
    }(std::move(writers), &writers_done));
    co_await WhenAll(std::move(others));
    auto last = ns.HeadObject("race", "hot");
    EXPECT_EQ(last->etag, "\"" + std::to_string(last->size) + "\"");
  });
}

// Listings against a brute-force model: random names over a small alphabet (so that prefixes
// and delimiters collide often), random prefixes, delimiters and page sizes, read to the end.
TEST_F(NamespaceTest, ListingMatchesAReferenceModel) {
  Run([](Env&, Namespace& ns) -> Task<void> {
    EXPECT_TRUE((co_await ns.CreateContainer("list", {})).ok());
    EXPECT_TRUE((co_await ns.CreateContainer("list-b", {})).ok());  // a neighbour that must not leak in
    EXPECT_TRUE((co_await ns.CommitObject("list-b", "a", Object(1, "\"n\""))).ok());
    std::mt19937_64 random(11);
    const std::vector<std::string> alphabet = {"a", "b", "/", "-", "\xC3\xA9", "\xFF"};
    std::set<std::string> names;
    while (names.size() < 300) {
      std::string name;
      const size_t length = 1 + random() % 6;
      for (size_t i = 0; i < length; i++) name += alphabet[random() % alphabet.size()];
      if (ValidateObjectName(name).ok()) names.insert(name);
    }
    for (const std::string& name : names) {
      EXPECT_TRUE((co_await ns.CommitObject("list", name, Object(name.size(), "\"" + name + "\""))).ok());
    }
    for (int round = 0; round < 200; round++) {
      ListObjectsOptions options;
      options.prefix = random() % 3 == 0 ? "" : alphabet[random() % alphabet.size()] + (random() % 2 ? alphabet[random() % 3] : "");
      options.delimiter = random() % 3 == 0 ? "" : (random() % 2 ? "/" : "a");
      options.max_results = 1 + random() % 40;
      // The model: every name under the prefix, rolled up at the first delimiter after it.
      std::vector<std::string> expected;  // names and common prefixes, in order, each once
      for (const std::string& name : names) {
        if (!name.starts_with(options.prefix)) continue;
        std::string item = name;
        if (!options.delimiter.empty()) {
          const size_t at = name.find(options.delimiter, options.prefix.size());
          if (at != std::string::npos) item = name.substr(0, at + options.delimiter.size());
        }
        if (expected.empty() || expected.back() != item) expected.push_back(item);
      }
      std::vector<std::string> got;
      for (int page = 0; page < 1000; page++) {
        auto listing = ns.ListObjects("list", options);
        EXPECT_TRUE(listing.ok()) << listing.status();
        if (!listing.ok()) co_return;
        EXPECT_LE(listing->objects.size() + listing->common_prefixes.size(), options.max_results);
        std::vector<std::string> items;
        for (const auto& [name, record] : listing->objects) items.push_back(name);
        for (const std::string& common : listing->common_prefixes) items.push_back(common);
        std::sort(items.begin(), items.end());
        got.insert(got.end(), items.begin(), items.end());
        if (!listing->truncated) break;
        options.start_after = listing->next_start_after;
      }
      EXPECT_EQ(got, expected) << "prefix '" << options.prefix << "' delimiter '" << options.delimiter << "' max "
                               << options.max_results;
      if (::testing::Test::HasFailure()) co_return;
    }
    EXPECT_EQ(ns.ListObjects("list", {.max_results = 0}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(ns.ListObjects("list", {.max_results = 5001}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(ns.ListObjects("nope", {}).status().code(), StatusCode::kNotFound);
  });
}

}  // namespace
}  // namespace cerulean::meta
