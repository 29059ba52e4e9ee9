#include "rpc/system_messages.h"

namespace cerulean::rpc {
namespace {
constexpr uint32_t kTextBytesMax = 4096;
}

void Encode(const HealthResponse& message, WireWriter& writer) {
  writer.Bool(message.serving);
  writer.U64(message.uptime_ms);
  writer.String(message.role);
}

Result<HealthResponse> DecodeHealthResponse(std::span<const std::byte> bytes) {
  WireReader reader(bytes);
  HealthResponse message;
  ASSIGN_OR_RETURN(message.serving, reader.Bool());
  ASSIGN_OR_RETURN(message.uptime_ms, reader.U64());
  ASSIGN_OR_RETURN(message.role, reader.String(kTextBytesMax));
  RETURN_IF_ERROR(reader.ExpectEnd());
  return message;
}

void Encode(const VersionResponse& message, WireWriter& writer) {
  writer.String(message.version);
  writer.String(message.build);
  writer.U16(message.protocol_version);
}

Result<VersionResponse> DecodeVersionResponse(std::span<const std::byte> bytes) {
  WireReader reader(bytes);
  VersionResponse message;
  ASSIGN_OR_RETURN(message.version, reader.String(kTextBytesMax));
  ASSIGN_OR_RETURN(message.build, reader.String(kTextBytesMax));
  ASSIGN_OR_RETURN(message.protocol_version, reader.U16());
  RETURN_IF_ERROR(reader.ExpectEnd());
  return message;
}

}  // namespace cerulean::rpc
