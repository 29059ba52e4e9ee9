// libFuzzer target: arbitrary bytes as a stream of rpc frames, through the same decoders a
// server runs on untrusted input (header, control message, the system messages). Any crash,
// sanitizer report or read out of bounds is a bug; a clean error is the expected outcome.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/crc32c.h"
#include "rpc/frame.h"
#include "rpc/system_messages.h"
#include "rpc/wire.h"

using namespace cerulean;
using namespace cerulean::rpc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const FrameLimits limits{.message_bytes_max = 64 * 1024, .payload_bytes_max = 1 << 20};
  // Walk the input as consecutive frames, exactly as FrameReader does.
  while (input.size() >= kFrameHeaderBytes) {
    auto header = DecodeFrameHeader(input.first<kFrameHeaderBytes>(), limits);
    input = input.subspan(kFrameHeaderBytes);
    if (!header.ok()) break;
    if (header->message_bytes > input.size()) break;
    std::span<const std::byte> message = input.first(header->message_bytes);
    input = input.subspan(header->message_bytes);
    // The decoders get the message whatever its CRC: a peer can send any bytes with a matching CRC.
    (void)DecodeHealthResponse(message);
    (void)DecodeVersionResponse(message);
    WireReader reader(message);
    while (reader.remaining() > 0) {
      if (!reader.String(1024).ok()) break;
      if (!reader.U64().ok()) break;
    }
    const uint64_t payload = std::min<uint64_t>(header->payload_bytes, input.size());
    (void)Crc32c(input.first(payload));
    input = input.subspan(payload);
  }
  return 0;
}
