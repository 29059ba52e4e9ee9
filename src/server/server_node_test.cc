// ServerNode's roles start and stop cleanly, and a start that fails half way (the port taken,
// a bad role) unwinds what it started and reports why.
#include "server/server_node.h"

#include <gtest/gtest.h>

#include "runtime/test_directory.h"
#include "runtime/test_loop.h"
#include "runtime/when_all.h"
#include "storage/chain_client.h"

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

// A seal and a commit racing on one extent: whenever meta accepts a piece as durable, the seal
// keeps it, and it keeps every append the replica acknowledged: the seal freezes the replica
// before it takes its length, so an append lands before the answer or is refused. (The commit's
// check runs while the seal is being decided and recorded.) This covers the
// interleavings one connection to one replica allows; the rule that also covers the others, a
// seal never below a length a check has accepted, is in ExtentManager::Seal.
TEST(ServerNodeTest, ASealNeverCutsAPieceACommitWasAllowedToUse) {
  cerulean::testing::TestDirectory directory("seal-race");
  RunOnLoop([&](Env& env) -> Task<void> {
    ServerNodeOptions options;
    options.listen = NetAddress("127.0.0.1", 0);
    options.data_directory = directory / "data";
    auto node = co_await ServerNode::Start(env, options);
    EXPECT_TRUE(node.ok()) << node.status();
    if (!node.ok()) co_return;
    meta::ExtentManager& extents = (*node)->meta()->extents();
    rpc::RpcClient client(env);
    std::vector<std::byte> bytes(4096, std::byte{7});
    const iovec payload{bytes.data(), bytes.size()};
    int accepted = 0;
    for (int round = 0; round < 20; round++) {
      auto writable = co_await extents.Writable(1, true, 1);
      EXPECT_TRUE(writable.ok()) << writable.status();
      if (!writable.ok()) break;
      const uint64_t extent_id = (*writable)[0].extent_id;
      storage::Chain chain;
      chain.version = (*writable)[0].chain_version;
      chain.replicas.push_back((*node)->address());
      EXPECT_TRUE((co_await storage::AppendToChain(client, chain, extent_id, {&payload, 1}, {}, std::chrono::seconds(5))).ok());
      Status durable = Status::Unknown("not checked");
      uint64_t late_offset = 0;
      uint64_t late_end = 0;  // set when the late append was acknowledged
      auto append_then_check = [&]() -> Task<Status> {
        auto late = co_await storage::AppendToChain(client, chain, extent_id, {&payload, 1}, {}, std::chrono::seconds(5));
        if (!late.ok()) co_return Status::Ok();  // sealed first: nothing to commit
        late_offset = late->record_offset;
        late_end = late->record_offset + storage::RecordBytes(bytes.size());
        const uint32_t length = static_cast<uint32_t>(bytes.size());
        std::vector<meta::Piece> pieces{{.extent_id = extent_id, .record_offset = late_offset, .length = length}};
        durable = co_await extents.CheckDurable(pieces);
        co_return Status::Ok();
      };
      std::vector<Task<Status>> racing;
      auto report_then_settle = [&]() -> Task<Status> {
        Status reported = extents.ReportFailure(extent_id, "test");
        co_await extents.Settle();  // the seal runs behind the report
        co_return reported;
      };
      racing.push_back(report_then_settle());
      racing.push_back(append_then_check());
      for (const Status& status : co_await WhenAll(std::move(racing))) EXPECT_TRUE(status.ok()) << status;
      const meta::ExtentRecord* record = extents.Find(extent_id);
      EXPECT_EQ(record->state, meta::ExtentState::kSealed);
      // The seal froze the replica first: an append it acknowledged is never cut.
      EXPECT_LE(late_end, record->sealed_length) << "round " << round << ": the seal cut an acknowledged append";
      if (durable.ok()) {
        accepted++;
        EXPECT_GT(record->sealed_length, late_offset) << "round " << round << ": a piece accepted as durable was cut by the seal";
      }
    }
    RecordProperty("accepted_late_pieces", accepted);
    co_await client.Close();
    co_await (*node)->Stop();
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
