#include "resp/resp_parser.h"

#include <gtest/gtest.h>

namespace cerulean::resp {
namespace {

TEST(RespParserTest, ParsesArraysOfBulkStringsWhateverTheChunking) {
  const std::string wire = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nv\r\nlu\r\n*1\r\n$4\r\nPING\r\n";
  std::vector<std::string_view> args;
  // Every prefix of the first command is incomplete, never an error.
  for (size_t cut = 0; cut < 33; cut++) {
    auto partial = ParseCommand(std::string_view(wire).substr(0, cut), {}, args);
    EXPECT_EQ(partial.state, ParseState::kIncomplete) << cut;
  }
  auto first = ParseCommand(wire, {}, args);
  ASSERT_EQ(first.state, ParseState::kComplete);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0], "SET");
  EXPECT_EQ(args[2], "v\r\nlu");  // binary-safe
  auto second = ParseCommand(std::string_view(wire).substr(first.consumed), {}, args);
  ASSERT_EQ(second.state, ParseState::kComplete);
  EXPECT_EQ(args, std::vector<std::string_view>{"PING"});
  EXPECT_EQ(first.consumed + second.consumed, wire.size());
}

TEST(RespParserTest, ParsesInlineCommands) {
  std::vector<std::string_view> args;
  auto parsed = ParseCommand("  GET   foo\r\nrest", {}, args);
  ASSERT_EQ(parsed.state, ParseState::kComplete);
  EXPECT_EQ(parsed.consumed, 13u);
  EXPECT_EQ(args, (std::vector<std::string_view>{"GET", "foo"}));
  EXPECT_EQ(ParseCommand("PING\n", {}, args).state, ParseState::kComplete);
  EXPECT_EQ(ParseCommand("PIN", {}, args).state, ParseState::kIncomplete);
}

TEST(RespParserTest, RefusesMalformedInputWithAReason) {
  std::vector<std::string_view> args;
  for (std::string_view bad : {"*x\r\n", "*1\r\n+OK\r\n", "*1\r\n$-5\r\n", "*1\r\n$3\r\nabcde", "*99999999\r\n",
                               "*1\r\n$99999999999\r\n"}) {
    auto parsed = ParseCommand(bad, {}, args);
    EXPECT_EQ(parsed.state, ParseState::kError) << bad;
    EXPECT_FALSE(parsed.error.empty());
  }
  EXPECT_EQ(ParseCommand("*1\r\n$100\r\n", {.bulk_bytes_max = 10}, args).state, ParseState::kError);
  EXPECT_EQ(ParseCommand(std::string(70'000, 'a'), {}, args).state, ParseState::kError);
}

TEST(RespParserTest, RepliesAreRedisShaped) {
  std::string out;
  AppendSimple(out, "OK");
  AppendError(out, "ERR bad\r\nthing");
  AppendInteger(out, -2);
  AppendBulk(out, "ab");
  AppendNull(out);
  AppendArrayHeader(out, 2);
  EXPECT_EQ(out, "+OK\r\n-ERR bad  thing\r\n:-2\r\n$2\r\nab\r\n$-1\r\n*2\r\n");
}

}  // namespace
}  // namespace cerulean::resp
