#include "rpc/wire.h"

#include <gtest/gtest.h>

#include "rpc/system_messages.h"

namespace cerulean::rpc {
namespace {

TEST(WireTest, RoundTripsScalarsAndStrings) {
  MessageBuffer buffer;
  WireWriter writer(buffer);
  writer.U8(0xAB);
  writer.U16(0xBEEF);
  writer.U32(0xDEADBEEF);
  writer.U64(0x0123456789ABCDEF);
  writer.I64(-42);
  writer.Bool(true);
  writer.String("cerulean");
  WireReader reader(buffer.span());
  EXPECT_EQ(*reader.U8(), 0xAB);
  EXPECT_EQ(*reader.U16(), 0xBEEF);
  EXPECT_EQ(*reader.U32(), 0xDEADBEEFu);
  EXPECT_EQ(*reader.U64(), 0x0123456789ABCDEFu);
  EXPECT_EQ(*reader.I64(), -42);
  EXPECT_EQ(*reader.Bool(), true);
  EXPECT_EQ(*reader.String(), "cerulean");
  EXPECT_TRUE(reader.ExpectEnd().ok());
  // Explicit little-endian layout.
  EXPECT_EQ(buffer.data()[1], std::byte{0xEF});
  EXPECT_EQ(buffer.data()[2], std::byte{0xBE});
}

TEST(WireTest, TruncationAndBadValuesAreErrorsNotCrashes) {
  MessageBuffer buffer;
  WireWriter writer(buffer);
  writer.String("hello");
  for (size_t cut = 0; cut < buffer.size(); cut++) {
    WireReader reader(buffer.span().first(cut));
    EXPECT_EQ(reader.String().status().code(), StatusCode::kInvalidArgument) << cut;
  }
  std::byte two{2};
  WireReader bad_bool({&two, 1});
  EXPECT_FALSE(bad_bool.Bool().ok());
  WireReader limited(buffer.span());
  EXPECT_FALSE(limited.String(/*length_max=*/3).ok());
}

TEST(WireTest, MessageBufferGrowsPastInlineAndMoves) {
  MessageBuffer buffer;
  std::string big(1000, 'x');
  buffer.Append(big.data(), big.size());
  MessageBuffer moved(std::move(buffer));
  EXPECT_EQ(moved.size(), 1000u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(moved.data()), moved.size()), big);
  MessageBuffer small;
  small.Append("abc", 3);
  MessageBuffer moved_small(std::move(small));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(moved_small.data()), 3), "abc");
}

TEST(WireTest, SystemMessagesRoundTripAndRejectTrailingBytes) {
  MessageBuffer buffer;
  WireWriter writer(buffer);
  Encode(VersionResponse{.version = "0.1.0", .build = "abc123", .protocol_version = 1}, writer);
  auto version = DecodeVersionResponse(buffer.span());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->version, "0.1.0");
  EXPECT_EQ(version->build, "abc123");
  writer.U8(0);
  EXPECT_FALSE(DecodeVersionResponse(buffer.span()).ok());
}

}  // namespace
}  // namespace cerulean::rpc
