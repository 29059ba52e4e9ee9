#include "base/md5.h"

#include <gtest/gtest.h>

namespace cerulean {
namespace {

// RFC 1321's test suite.
TEST(Md5Test, Rfc1321Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"}};
  for (const auto& [input, digest] : vectors) {
    Md5 md5;
    md5.Update(std::string_view(input));
    EXPECT_EQ(HexOf(md5.Finish()), digest) << input;
  }
  Md5 split;  // incremental updates give the same digest
  split.Update(std::string_view("message "));
  split.Update(std::string_view("digest"));
  EXPECT_EQ(HexOf(split.Finish()), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(Md5Test, HexRoundTripsAndRejectsNonHex) {
  EXPECT_EQ(BytesOfHex("00ff7F"), std::string("\x00\xff\x7f", 3));
  EXPECT_EQ(HexOf(BytesOfHex("d41d8cd98f00b204e9800998ecf8427e")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(BytesOfHex("abc"), "");
  EXPECT_EQ(BytesOfHex("zz"), "");
}

}  // namespace
}  // namespace cerulean
