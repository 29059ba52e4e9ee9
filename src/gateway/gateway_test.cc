#include <gtest/gtest.h>

#include "gateway/byte_range.h"
#include "gateway/http_dates.h"
#include "gateway/uri.h"

namespace cerulean::gateway {
namespace {

TEST(UriTest, PercentEncodingRoundTripsAndBadEscapesAreRefused) {
  EXPECT_EQ(UriDecode("%4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UriDecode("%zz").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*UriDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(UriEncode("a b/c~", true), "a%20b/c~");
  EXPECT_EQ(UriEncode("a b/c", false), "a%20b%2Fc");
  auto query = ParseQuery("comp=list&prefix=a%2Fb&&empty&x=1+2");
  ASSERT_TRUE(query.ok());
  ASSERT_EQ(query->size(), 4u);
  EXPECT_EQ(*Find(*query, "prefix"), "a/b");
  EXPECT_EQ(*Find(*query, "empty"), "");
  EXPECT_EQ(*Find(*query, "x"), "1+2");
  EXPECT_EQ(Find(*query, "missing"), nullptr);
}

TEST(UriTest, Base64) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  for (const std::string& text : std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\0\xff\x10", 3)}) {
    auto decoded = Base64Decode(Base64Encode(text));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, text);
  }
  EXPECT_FALSE(Base64Decode("Zg=").ok());
  EXPECT_FALSE(Base64Decode("Z=g=").ok());
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
}

TEST(HttpDatesTest, FormatsAndParses) {
  const int64_t ns = 1'255'369'800'123'000'000;  // 2009-10-12T17:50:00.123Z
  EXPECT_EQ(HttpTime(ns), "Mon, 12 Oct 2009 17:50:00 GMT");
  EXPECT_EQ(IsoTime(ns), "2009-10-12T17:50:00.123Z");
  EXPECT_EQ(*ParseHttpTime("Mon, 12 Oct 2009 17:50:00 GMT"), 1'255'369'800);
  EXPECT_FALSE(ParseHttpTime("2009-10-12").ok());
  EXPECT_EQ(*ParseIsoTime("2009-10-12T17:50:00Z"), 1'255'369'800);
  EXPECT_EQ(*ParseIsoTime("2009-10-12T17:50:00.1234567Z"), 1'255'369'800);
  EXPECT_EQ(*ParseIsoTime("2009-10-12"), 1'255'305'600);
  EXPECT_FALSE(ParseIsoTime("yesterday").ok());
}

TEST(ByteRangeTest, SelectsClipsOrRefuses) {
  using Range = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(**ParseByteRange("bytes=0-9", 100), Range(0, 9));
  EXPECT_EQ(**ParseByteRange("bytes=90-", 100), Range(90, 99));
  EXPECT_EQ(**ParseByteRange("bytes=90-200", 100), Range(90, 99));
  EXPECT_EQ(**ParseByteRange("bytes=-10", 100), Range(90, 99));
  EXPECT_EQ(**ParseByteRange("bytes=-1000", 100), Range(0, 99));
  EXPECT_EQ(ParseByteRange("bytes=100-", 100).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ParseByteRange("bytes=0-", 0).status().code(), StatusCode::kOutOfRange);  // Azure's empty blob: 416
  EXPECT_EQ(ParseByteRange("bytes=-0", 100).status().code(), StatusCode::kOutOfRange);
  EXPECT_FALSE(ParseByteRange("bytes=0-1,5-6", 100)->has_value());  // served whole
  EXPECT_FALSE(ParseByteRange("bytes=9-1", 100)->has_value());
  EXPECT_FALSE(ParseByteRange("items=0-1", 100)->has_value());
}

}  // namespace
}  // namespace cerulean::gateway
