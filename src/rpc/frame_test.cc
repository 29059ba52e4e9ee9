#include "rpc/frame.h"

#include <gtest/gtest.h>

#include "base/crc32c.h"
#include "base/little_endian.h"

namespace cerulean::rpc {
namespace {

using Header = std::array<std::byte, kFrameHeaderBytes>;

Header Encode(const FrameHeader& header) {
  Header bytes;
  EncodeFrameHeader(header, bytes);
  return bytes;
}

FrameHeader Sample() {
  return {.type = FrameType::kResponse, .flags = 3, .method = MethodId(7, 9), .status_code = 14,
          .request_id = 0x0102030405060708, .timeout_us = 1500, .payload_bytes = 1 << 20,
          .message_bytes = 17, .message_crc = 0xAABBCCDD, .payload_crc = 0x11223344};
}

TEST(FrameTest, RoundTripsEveryField) {
  const Header bytes = Encode(Sample());
  auto decoded = DecodeFrameHeader(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const FrameHeader& h = *decoded;
  const FrameHeader s = Sample();
  EXPECT_EQ(h.type, s.type);
  EXPECT_EQ(h.flags, s.flags);
  EXPECT_EQ(h.method, s.method);
  EXPECT_EQ(h.status_code, s.status_code);
  EXPECT_EQ(h.request_id, s.request_id);
  EXPECT_EQ(h.timeout_us, s.timeout_us);
  EXPECT_EQ(h.payload_bytes, s.payload_bytes);
  EXPECT_EQ(h.message_bytes, s.message_bytes);
  EXPECT_EQ(h.message_crc, s.message_crc);
  EXPECT_EQ(h.payload_crc, s.payload_crc);
}

TEST(FrameTest, LayoutIsExplicitLittleEndian) {
  const Header bytes = Encode(Sample());
  EXPECT_EQ(bytes[0], std::byte{'C'});
  EXPECT_EQ(bytes[1], std::byte{'R'});
  EXPECT_EQ(bytes[2], std::byte{'L'});
  EXPECT_EQ(bytes[3], std::byte{'N'});
  EXPECT_EQ(LoadLittleEndian<uint64_t>(bytes.data() + frame_offset::kRequestId), 0x0102030405060708u);
  EXPECT_EQ(bytes[frame_offset::kRequestId], std::byte{0x08});
  EXPECT_EQ(LoadLittleEndian<uint16_t>(bytes.data() + frame_offset::kVersion), kProtocolVersion);
}

TEST(FrameTest, EveryFlippedBitIsDetected) {
  const Header good = Encode(Sample());
  for (size_t bit = 0; bit < kFrameHeaderBytes * 8; bit++) {
    Header bad = good;
    bad[bit / 8] ^= std::byte(1u << (bit % 8));
    EXPECT_FALSE(DecodeFrameHeader(bad, {}).ok()) << "bit " << bit;
  }
}

TEST(FrameTest, RejectsWithReasons) {
  Header bytes = Encode(Sample());
  bytes[0] = std::byte{'X'};
  EXPECT_EQ(DecodeFrameHeader(bytes, {}).status().code(), StatusCode::kInvalidArgument);

  FrameHeader big = Sample();
  big.payload_bytes = 1ull << 40;
  EXPECT_EQ(DecodeFrameHeader(Encode(big), {}).status().code(), StatusCode::kResourceExhausted);
  big = Sample();
  big.message_bytes = 32u << 20;  // past the 16 MiB limit
  EXPECT_EQ(DecodeFrameHeader(Encode(big), {}).status().code(), StatusCode::kResourceExhausted);

  FrameHeader odd = Sample();
  odd.type = static_cast<FrameType>(9);
  EXPECT_EQ(DecodeFrameHeader(Encode(odd), {}).status().code(), StatusCode::kInvalidArgument);
  odd = Sample();
  odd.status_code = 999;
  EXPECT_EQ(DecodeFrameHeader(Encode(odd), {}).status().code(), StatusCode::kInvalidArgument);
  FrameHeader cancel{.type = FrameType::kCancel, .payload_bytes = 4};
  EXPECT_FALSE(DecodeFrameHeader(Encode(cancel), {}).ok());
}

TEST(FrameTest, OtherProtocolVersionRefusedByName) {
  Header other = Encode(Sample());
  StoreLittleEndian<uint16_t>(other.data() + frame_offset::kVersion, 2);
  StoreLittleEndian<uint32_t>(other.data() + frame_offset::kHeaderCrc, Crc32c(other.data(), frame_offset::kHeaderCrc));
  auto decoded = DecodeFrameHeader(other, {});
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("version 2"), std::string::npos) << decoded.status();
}

}  // namespace
}  // namespace cerulean::rpc
