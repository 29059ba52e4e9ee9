#include "base/crc32c.h"

#include <sys/uio.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace cerulean {
namespace {

uint32_t CrcOf(std::string_view text, uint32_t crc = 0) {
  return Crc32c(text.data(), text.size(), crc);
}

// A deterministic byte string, so that a failure reproduces.
std::string PseudoRandomBytes(size_t length, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(length, '\0');
  for (char& c : bytes) c = static_cast<char>(byte(generator));
  return bytes;
}

// The check value from the CRC catalogue and the test vectors of RFC 3720, appendix B.4.
TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(CrcOf("123456789"), 0xE3069283u);
  EXPECT_EQ(CrcOf(""), 0u);
  EXPECT_EQ(Crc32c(nullptr, 0), 0u);
  EXPECT_EQ(CrcOf(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(CrcOf(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (size_t i = 0; i < ascending.size(); ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(CrcOf(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, SpanOverloadEqualsPointerOverload) {
  const std::string bytes = PseudoRandomBytes(1000, 1);
  const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
  EXPECT_EQ(Crc32c(span), CrcOf(bytes));
  EXPECT_EQ(Crc32c(span, 0x1234), CrcOf(bytes, 0x1234));
}

TEST(Crc32cTest, EmptyInputKeepsTheCrc) { EXPECT_EQ(Crc32c(nullptr, 0, 0xDEADBEEF), 0xDEADBEEFu); }

// Crc32c(b, Crc32c(a)) == Crc32c(a + b): records can be checksummed piece by piece.
TEST(Crc32cTest, ChainingOverRandomSplits) {
  std::mt19937 generator(42);
  for (int round = 0; round < 200; ++round) {
    const std::string bytes = PseudoRandomBytes(generator() % 4096, static_cast<uint32_t>(round));
    const size_t split = bytes.empty() ? 0 : generator() % (bytes.size() + 1);
    const std::string_view whole(bytes);
    EXPECT_EQ(CrcOf(whole.substr(split), CrcOf(whole.substr(0, split))), CrcOf(whole))
        << "length " << bytes.size() << " split " << split;
  }
}

TEST(Crc32cTest, IovecOverloadEqualsContiguous) {
  std::mt19937 generator(7);
  for (int round = 0; round < 100; ++round) {
    const std::string bytes = PseudoRandomBytes(generator() % 8192, static_cast<uint32_t>(round));
    // Cut into pieces of random length, some of them empty.
    std::vector<iovec> pieces;
    size_t offset = 0;
    while (offset < bytes.size()) {
      const size_t length = std::min<size_t>(generator() % 700, bytes.size() - offset);
      pieces.push_back({const_cast<char*>(bytes.data()) + offset, length});
      offset += length;
    }
    EXPECT_EQ(Crc32c(std::span<const iovec>(pieces)), CrcOf(bytes)) << "round " << round;
    EXPECT_EQ(Crc32c(std::span<const iovec>(pieces), 0x5555), CrcOf(bytes, 0x5555));
  }
  EXPECT_EQ(Crc32c(std::span<const iovec>()), 0u);
}

}  // namespace
TEST(Crc32cTest, CombineEqualsTheCrcOfTheConcatenation) {
  std::mt19937_64 random(7);
  std::vector<unsigned char> bytes(300000);
  for (auto& b : bytes) b = static_cast<unsigned char>(random());
  for (size_t split : {size_t{0}, size_t{1}, size_t{4096}, size_t{65536}, size_t{123457}, bytes.size()}) {
    const uint32_t a = Crc32c(bytes.data(), split);
    const uint32_t b = Crc32c(bytes.data() + split, bytes.size() - split);
    EXPECT_EQ(Crc32cCombine(a, b, bytes.size() - split), Crc32c(bytes.data(), bytes.size())) << "split " << split;
  }
  EXPECT_EQ(Crc32cCombine(0x12345678, 0, 0), 0x12345678u);
}

}  // namespace cerulean
