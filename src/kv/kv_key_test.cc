#include "kv/kv_key.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace cerulean::kv {
namespace {

// The vectors were computed from the spec with Python's hashlib, not with this code.
TEST(PrefixHasherTest, MatchesTheRecordedTestVectors) {
  std::ifstream file(std::string(CERULEAN_SOURCE_DIR) + "/tests/data/kv_prefix_vectors.json");
  ASSERT_TRUE(file.good());
  const nlohmann::json vectors = nlohmann::json::parse(file)["vectors"];
  ASSERT_GE(vectors.size(), 4u);
  for (const auto& vector : vectors) {
    const PrefixHasher hasher(vector["seed"].get<std::string>());
    EXPECT_EQ(hasher.root().Hex(), vector["root"].get<std::string>());
    const std::vector<uint32_t> tokens = vector["tokens"].get<std::vector<uint32_t>>();
    const std::vector<KvKey> keys = hasher.Keys(tokens, vector["block_tokens"].get<size_t>());
    const std::vector<std::string> expected = vector["keys"].get<std::vector<std::string>>();
    ASSERT_EQ(keys.size(), expected.size());
    for (size_t i = 0; i < keys.size(); i++) EXPECT_EQ(keys[i].Hex(), expected[i]) << i;
  }
}

TEST(PrefixHasherTest, SharedPrefixesShareKeysAndSeedsSeparate) {
  const std::vector<uint32_t> a = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<uint32_t> b = {1, 2, 3, 4, 5, 6, 9, 9};
  const PrefixHasher hasher;
  const auto ka = hasher.Keys(a, 2), kb = hasher.Keys(b, 2);
  ASSERT_EQ(ka.size(), 4u);
  EXPECT_EQ(ka[0], kb[0]);
  EXPECT_EQ(ka[2], kb[2]);
  EXPECT_NE(ka[3], kb[3]);
  EXPECT_NE(PrefixHasher("model-a").Keys(a, 2)[0], ka[0]);
}

TEST(KvKeyTest, HexRoundTripsAndRejectsBadText) {
  const KvKey key = PrefixHasher().root();
  auto back = KvKey::FromHex(key.Hex());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, key);
  EXPECT_EQ(KvKey::FromHex("abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvKey::FromHex(std::string(63, '0') + "g").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cerulean::kv
