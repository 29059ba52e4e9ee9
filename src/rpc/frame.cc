#include "rpc/frame.h"

#include <fmt/format.h>

#include "base/crc32c.h"
#include "base/little_endian.h"

namespace cerulean::rpc {

void EncodeFrameHeader(const FrameHeader& header, std::span<std::byte, kFrameHeaderBytes> out) {
  using namespace frame_offset;
  std::byte* p = out.data();
  StoreLittleEndian<uint32_t>(p + kMagic, kFrameMagic);
  StoreLittleEndian<uint16_t>(p + kVersion, kProtocolVersion);
  StoreLittleEndian<uint8_t>(p + kType, static_cast<uint8_t>(header.type));
  StoreLittleEndian<uint8_t>(p + kFlags, header.flags);
  StoreLittleEndian<uint32_t>(p + kMethod, header.method);
  StoreLittleEndian<uint32_t>(p + kStatusCode, header.status_code);
  StoreLittleEndian<uint64_t>(p + kRequestId, header.request_id);
  StoreLittleEndian<uint64_t>(p + kTimeoutMicros, header.timeout_us);
  StoreLittleEndian<uint64_t>(p + kPayloadBytes, header.payload_bytes);
  StoreLittleEndian<uint32_t>(p + kMessageBytes, header.message_bytes);
  StoreLittleEndian<uint32_t>(p + kMessageCrc, header.message_crc);
  StoreLittleEndian<uint32_t>(p + kPayloadCrc, header.payload_crc);
  StoreLittleEndian<uint32_t>(p + kHeaderCrc, Crc32c(p, kHeaderCrc));
}

Result<FrameHeader> DecodeFrameHeader(std::span<const std::byte, kFrameHeaderBytes> in,
                                      const FrameLimits& limits) {
  using namespace frame_offset;
  const std::byte* p = in.data();
  const uint32_t magic = LoadLittleEndian<uint32_t>(p + kMagic);
  if (magic != kFrameMagic) {
    return Status::InvalidArgument(fmt::format("bad frame magic {:#010x}", magic));
  }
  // The CRC comes before any other field is trusted: a flipped length must not be acted on.
  const uint32_t header_crc = LoadLittleEndian<uint32_t>(p + kHeaderCrc);
  const uint32_t computed_crc = Crc32c(p, kHeaderCrc);
  if (header_crc != computed_crc) {
    return Status::DataLoss(
        fmt::format("frame header checksum {:#010x}, computed {:#010x}", header_crc, computed_crc));
  }
  const uint16_t version = LoadLittleEndian<uint16_t>(p + kVersion);
  if (version != kProtocolVersion) {
    return Status::InvalidArgument(
        fmt::format("protocol version {} is not supported (this side speaks {})", version, kProtocolVersion));
  }
  FrameHeader header;
  const uint8_t type = LoadLittleEndian<uint8_t>(p + kType);
  if (type < static_cast<uint8_t>(FrameType::kRequest) || type > static_cast<uint8_t>(FrameType::kCancel)) {
    return Status::InvalidArgument(fmt::format("unknown frame type {}", type));
  }
  header.type = static_cast<FrameType>(type);
  header.flags = LoadLittleEndian<uint8_t>(p + kFlags);
  header.method = LoadLittleEndian<uint32_t>(p + kMethod);
  header.status_code = LoadLittleEndian<uint32_t>(p + kStatusCode);
  header.request_id = LoadLittleEndian<uint64_t>(p + kRequestId);
  header.timeout_us = LoadLittleEndian<uint64_t>(p + kTimeoutMicros);
  header.payload_bytes = LoadLittleEndian<uint64_t>(p + kPayloadBytes);
  header.message_bytes = LoadLittleEndian<uint32_t>(p + kMessageBytes);
  header.message_crc = LoadLittleEndian<uint32_t>(p + kMessageCrc);
  header.payload_crc = LoadLittleEndian<uint32_t>(p + kPayloadCrc);
  if (header.message_bytes > limits.message_bytes_max) {
    return Status::ResourceExhausted(fmt::format("control message of {} bytes exceeds the limit of {}",
                                                 header.message_bytes, limits.message_bytes_max));
  }
  if (header.payload_bytes > limits.payload_bytes_max) {
    return Status::ResourceExhausted(fmt::format("payload of {} bytes exceeds the limit of {}",
                                                 header.payload_bytes, limits.payload_bytes_max));
  }
  if (header.status_code > kStatusCodeMax) {
    return Status::InvalidArgument(fmt::format("unknown status code {}", header.status_code));
  }
  if (header.type == FrameType::kCancel && (header.payload_bytes != 0 || header.message_bytes != 0)) {
    return Status::InvalidArgument("cancel frame with a body");
  }
  return header;
}

}  // namespace cerulean::rpc
