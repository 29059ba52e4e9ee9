// The native RPC frame: a fixed 56-byte header, then the control message (explicitly encoded
// little-endian fields, see wire.h), then the bulk payload as raw bytes. Layout, offsets and
// rules are in docs/protocols/rpc.md. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"

namespace cerulean::rpc {

inline constexpr uint32_t kFrameMagic = 0x4E4C5243;  // "CRLN" read as little-endian bytes
inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 56;

enum class FrameType : uint8_t {
  kRequest = 1,
  kResponse = 2,
  kCancel = 3,  // the client gave up on request_id; no response follows
};

// Byte offsets of each field in the header.
namespace frame_offset {
inline constexpr size_t kMagic = 0;          // u32
inline constexpr size_t kVersion = 4;        // u16
inline constexpr size_t kType = 6;           // u8
inline constexpr size_t kFlags = 7;          // u8
inline constexpr size_t kMethod = 8;         // u32: service << 16 | method
inline constexpr size_t kStatusCode = 12;    // u32: StatusCode of a response, 0 otherwise
inline constexpr size_t kRequestId = 16;     // u64
inline constexpr size_t kTimeoutMicros = 24; // u64: the caller's remaining budget; 0 = none
inline constexpr size_t kPayloadBytes = 32;  // u64
inline constexpr size_t kMessageBytes = 40;  // u32
inline constexpr size_t kMessageCrc = 44;    // u32: CRC32C of the control message
inline constexpr size_t kPayloadCrc = 48;    // u32: CRC32C of the payload
inline constexpr size_t kHeaderCrc = 52;     // u32: CRC32C of bytes [0, 52)
}  // namespace frame_offset
static_assert(frame_offset::kHeaderCrc + sizeof(uint32_t) == kFrameHeaderBytes);

struct FrameHeader {
  FrameType type = FrameType::kRequest;
  uint8_t flags = 0;
  uint32_t method = 0;
  uint32_t status_code = 0;
  uint64_t request_id = 0;
  uint64_t timeout_us = 0;
  uint64_t payload_bytes = 0;
  uint32_t message_bytes = 0;
  uint32_t message_crc = 0;
  uint32_t payload_crc = 0;
};

// What a receiver accepts; anything larger closes the connection.
struct FrameLimits {
  // Large enough for a page of 5000 listed objects with long names and metadata.
  uint32_t message_bytes_max = 16u << 20;
  uint64_t payload_bytes_max = 64ull << 20;
};

// Writes the header, computing its CRC.
void EncodeFrameHeader(const FrameHeader& header, std::span<std::byte, kFrameHeaderBytes> out);

// Validates and decodes a header: magic, version, type, header CRC and limits. A failure names
// the rule that was broken (the connection is then closed by the caller).
Result<FrameHeader> DecodeFrameHeader(std::span<const std::byte, kFrameHeaderBytes> in,
                                      const FrameLimits& limits);

constexpr uint32_t MethodId(uint16_t service, uint16_t method) {
  return (uint32_t{service} << 16) | method;
}

}  // namespace cerulean::rpc
