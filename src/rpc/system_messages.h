// Wire messages of the system service, which every Cerulean server answers: health and version.
// Both the service and its clients include this header. Field order is the encoding.
#pragma once

#include <cstdint>
#include <string>

#include "rpc/frame.h"
#include "rpc/wire.h"

namespace cerulean::rpc {

inline constexpr uint16_t kSystemService = 1;
inline constexpr uint32_t kHealthMethod = MethodId(kSystemService, 1);
inline constexpr uint32_t kVersionMethod = MethodId(kSystemService, 2);

// Health: an empty request.
struct HealthResponse {
  bool serving = false;     // false while draining
  uint64_t uptime_ms = 0;
  std::string role;         // "all-in-one", "storage", ...
};

// Version: an empty request.
struct VersionResponse {
  std::string version;      // "0.1.0"
  std::string build;        // git describe of the build
  uint16_t protocol_version = 0;
};

void Encode(const HealthResponse& message, WireWriter& writer);
Result<HealthResponse> DecodeHealthResponse(std::span<const std::byte> bytes);
void Encode(const VersionResponse& message, WireWriter& writer);
Result<VersionResponse> DecodeVersionResponse(std::span<const std::byte> bytes);

}  // namespace cerulean::rpc
