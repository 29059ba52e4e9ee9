#include "meta/cluster_map.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace cerulean::meta {
namespace {

NodeReport Node(std::string id, std::string address, uint64_t free_bytes) {
  return NodeReport{.node_id = std::move(id), .address = std::move(address),
                    .disks = {{.path = "/d", .capacity_bytes = 1ull << 40, .free_bytes = free_bytes}}};
}

TimePoint At(int seconds) { return TimePoint{} + std::chrono::seconds(seconds); }

TEST(ClusterMapTest, NodesGoDownWithoutHeartbeatsAndComeBack) {
  ClusterMap map({.down_after = std::chrono::seconds(10)});
  EXPECT_TRUE(map.Report(Node("a", "10.0.0.1:7400", 100), At(0)).ok());
  EXPECT_TRUE(map.Report(Node("b", "10.0.0.2:7400", 100), At(0)).ok());
  const uint64_t version = map.version();
  EXPECT_TRUE(map.Report(Node("a", "10.0.0.1:7400", 90), At(8)).ok());  // a heartbeat: no change to learn
  EXPECT_EQ(map.version(), version);
  EXPECT_TRUE(map.CheckLiveness(At(9)).empty());
  EXPECT_EQ(map.CheckLiveness(At(10)), std::vector<std::string>{"b"});
  EXPECT_GT(map.version(), version);
  EXPECT_EQ(map.up_count(), 1u);
  EXPECT_TRUE(map.Report(Node("b", "10.0.0.2:7400", 100), At(11)).ok());  // back
  EXPECT_EQ(map.up_count(), 2u);
  EXPECT_EQ(map.Report(Node("", "x:1", 1), At(0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(map.Report(Node("c", "10.0.0.1:7400", 1), At(11)).code(), StatusCode::kAlreadyExists);
}

TEST(ClusterMapTest, ChainsUseDistinctUpNodesWeightedByFreeSpace) {
  ClusterMap map;
  EXPECT_TRUE(map.Report(Node("full", "h1:1", 0), At(0)).ok());
  EXPECT_TRUE(map.Report(Node("small", "h2:1", 1ull << 30), At(0)).ok());
  EXPECT_TRUE(map.Report(Node("big", "h3:1", 9ull << 30), At(0)).ok());
  EXPECT_TRUE(map.Report(Node("down", "h4:1", 100ull << 30), At(0)).ok());
  EXPECT_TRUE(map.Report(Node("full", "h1:1", 0), At(20)).ok());
  EXPECT_TRUE(map.Report(Node("small", "h2:1", 1ull << 30), At(20)).ok());
  EXPECT_TRUE(map.Report(Node("big", "h3:1", 9ull << 30), At(20)).ok());
  map.CheckLiveness(At(25));  // "down" went quiet
  std::mt19937_64 random(3);
  std::map<std::string, int> heads;
  for (int i = 0; i < 2000; i++) {
    auto chain = map.PickChain(3, random);
    ASSERT_TRUE(chain.ok()) << chain.status();
    EXPECT_EQ(std::set<std::string>(chain->begin(), chain->end()).size(), 3u);  // never two on one node
    EXPECT_EQ(std::count(chain->begin(), chain->end(), "down"), 0);
    heads[chain->front()]++;
  }
  // The head is drawn by free space: "big" about 9 times as often as "small", "full" almost never.
  EXPECT_GT(heads["big"], 6 * heads["small"]);
  EXPECT_LT(heads["full"], 20);
  EXPECT_EQ(map.PickChain(4, random).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(map.PickChain(0, random).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cerulean::meta
