#include "kv/kv_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace cerulean::kv {
namespace {

KvKey RandomKey(std::mt19937_64& random) {
  KvKey key;
  for (size_t i = 0; i < 32; i += 8) {
    const uint64_t word = random();
    std::memcpy(key.bytes.data() + i, &word, 8);
  }
  return key;
}

// Random inserts and erases against std::map, through many growths and backward shifts.
TEST(KvIndexTest, AgreesWithAMapThroughGrowthAndErases) {
  std::mt19937_64 random(7);
  KvIndex index(16);
  std::map<std::pair<uint32_t, std::array<uint8_t, 32>>, uint64_t> model;
  std::vector<std::pair<uint32_t, KvKey>> keys;
  for (int step = 0; step < 200'000; step++) {
    const int action = static_cast<int>(random() % 10);
    if (action < 6 || keys.empty()) {
      const uint32_t ns = 1 + static_cast<uint32_t>(random() % 3);
      KvKey key = RandomKey(random);
      if (random() % 8 == 0 && !keys.empty()) key = keys[random() % keys.size()].second;  // same key, maybe other ns
      if (index.Find(ns, key) != nullptr) continue;
      KvEntry* entry = index.Insert(ns, key);
      entry->offset = static_cast<uint64_t>(step);
      model[{ns, key.bytes}] = static_cast<uint64_t>(step);
      keys.push_back({ns, key});
    } else {
      const size_t at = random() % keys.size();
      auto [ns, key] = keys[at];
      keys[at] = keys.back();
      keys.pop_back();
      KvEntry* entry = index.Find(ns, key);
      ASSERT_NE(entry, nullptr);
      EXPECT_EQ(entry->offset, model.at({ns, key.bytes}));
      index.Erase(entry);
      model.erase({ns, key.bytes});
      EXPECT_EQ(index.Find(ns, key), nullptr);
    }
  }
  EXPECT_EQ(index.size(), model.size());
  for (const auto& [ns, key] : keys) {
    const KvEntry* entry = index.Find(ns, key);
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->offset, model.at({ns, key.bytes}));
  }
  size_t visited = 0;
  index.ForEach([&](KvEntry&) { visited++; });
  EXPECT_EQ(visited, model.size());
}

// Growing by an eighth keeps every entry at 64 bytes of table or less, at every fill past the
// initial size (doubling would leave 110 right after a growth).
TEST(KvIndexTest, EveryEntryCostsAtMost64BytesAtAnyFill) {
  std::mt19937_64 random(9);
  KvIndex index(16);
  double worst = 0;
  size_t growths = 0;
  for (size_t i = 0; i < 300'000; i++) {
    const size_t slots = index.slots();
    index.Insert(1, RandomKey(random));
    growths += index.slots() != slots ? 1 : 0;
    if (index.size() >= 1000) {
      worst = std::max(worst, static_cast<double>(index.memory_bytes()) / static_cast<double>(index.size()));
    }
  }
  EXPECT_GT(growths, 50u);
  EXPECT_LE(worst, 64.0);
}

}  // namespace
}  // namespace cerulean::kv
