// ServerNode's roles start and stop cleanly, and a start that fails half way (the port taken,
// a bad role) unwinds what it started and reports why.
#include "server/server_node.h"

#include <gtest/gtest.h>

#include "runtime/test_directory.h"
#include "runtime/test_loop.h"

namespace cerulean::server {
namespace {

using cerulean::testing::RunOnLoop;

TEST(ServerNodeTest, AFailedStartUnwindsWhatItStarted) {
  cerulean::testing::TestDirectory directory("server-node");
  RunOnLoop([&](Env& env) -> Task<void> {
    ServerNodeOptions first_options;
    first_options.listen = NetAddress("127.0.0.1", 0);
    first_options.data_directory = directory / "first";
    auto first = co_await ServerNode::Start(env, first_options);
    EXPECT_TRUE(first.ok()) << first.status();
    if (!first.ok()) co_return;
    EXPECT_NE((*first)->meta(), nullptr);
    EXPECT_NE((*first)->store(), nullptr);
    EXPECT_FALSE((*first)->node_id().empty());

    // Every role, on the port the first one holds: meta and storage open, then listen fails.
    for (const char* role : {"all-in-one", "meta", "storage"}) {
      ServerNodeOptions options;
      options.role = role;
      options.listen = (*first)->address();
      options.data_directory = directory / (std::string("second-") + role);
      auto second = co_await ServerNode::Start(env, options);
      EXPECT_FALSE(second.ok()) << role;
      EXPECT_NE(second.status().message().find("ddress"), std::string::npos) << second.status();
    }
    ServerNodeOptions bad;
    bad.role = "gateway";
    bad.data_directory = directory / "bad";
    EXPECT_EQ((co_await ServerNode::Start(env, bad)).status().code(), StatusCode::kInvalidArgument);
    co_await (*first)->Stop();
  });
}

TEST(ServerNodeTest, NodeIdsAreKeptAcrossRestarts) {
  cerulean::testing::TestDirectory directory("node-id");
  auto first = LoadOrCreateNodeId(directory.path(), 0x1234);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "node-0000000000001234");
  EXPECT_EQ(*LoadOrCreateNodeId(directory.path(), 0x9999), *first);
}

}  // namespace
}  // namespace cerulean::server
