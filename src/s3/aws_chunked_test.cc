#include "s3/aws_chunked.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "s3/sigv4.h"

namespace cerulean::s3 {
namespace {

constexpr std::string_view kDate = "20240101T000000Z";
constexpr std::string_view kScope = "20240101/us-east-1/s3/aws4_request";
constexpr std::string_view kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kSeed(64, 'a');
const std::string kKey = "signing key";

// The encoded chunks of an aws-chunked body of `chunks`, each signed on the previous signature,
// then the final chunk.
std::vector<std::string> Blocks(const std::vector<std::string>& chunks) {
  std::vector<std::string> blocks;
  std::string previous = kSeed;
  std::vector<std::string> all = chunks;
  all.emplace_back();
  for (const std::string& chunk : all) {
    const std::string signature = HmacSha256Hex(
        kKey, fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", kDate, kScope, previous, kEmpty, Sha256Hex(chunk)));
    blocks.push_back(fmt::format("{:x};chunk-signature={}\r\n{}\r\n", chunk.size(), signature, chunk));
    previous = signature;
  }
  return blocks;
}

std::string Body(const std::vector<std::string>& chunks) {
  std::string body;
  for (const std::string& block : Blocks(chunks)) body += block;
  return body;
}

Status Decode(std::string_view body, std::string& out, size_t piece = 7) {
  AwsChunkedDecoder decoder(kKey, std::string(kDate), std::string(kScope), kSeed);
  for (size_t at = 0; at < body.size(); at += piece) {
    RETURN_IF_ERROR(decoder.Feed(body.substr(at, piece), out));
  }
  return decoder.Finish();
}

TEST(AwsChunkedTest, DecodesChainedChunksInAnyPieces) {
  const std::string body = Body({std::string(10000, 'x'), "second", std::string(300, 'z')});
  for (size_t piece : {1, 7, 4096, 1 << 20}) {
    std::string out;
    ASSERT_TRUE(Decode(body, out, piece).ok()) << piece;
    EXPECT_EQ(out, std::string(10000, 'x') + "second" + std::string(300, 'z'));
  }
}

TEST(AwsChunkedTest, RefusesAlteredReorderedCutOrMalformedBodies) {
  std::string out;
  std::string altered = Body({"hello", "world"});
  altered[altered.find("world")] = 'W';
  EXPECT_EQ(Decode(altered, out).code(), StatusCode::kPermissionDenied);
  // Two chunks swapped: each signature chains on the one before.
  const std::vector<std::string> blocks = Blocks({"first", "second"});
  EXPECT_EQ(Decode(blocks[1] + blocks[0] + blocks[2], out).code(), StatusCode::kPermissionDenied);
  out.clear();
  EXPECT_FALSE(Decode(Body({"one"}).substr(0, 20), out).ok()) << "cut before the final chunk";
  EXPECT_EQ(Decode("zz;chunk-signature=" + std::string(64, '0') + "\r\n", out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode("5;chunk-signature=abc\r\n", out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode("5\r\nhello\r\n", out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decode(Body({"hello"}) + "x", out).code(), StatusCode::kInvalidArgument) << "bytes after the end";
  EXPECT_EQ(Decode("ffffffff;chunk-signature=" + std::string(64, '0') + "\r\n", out).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cerulean::s3
