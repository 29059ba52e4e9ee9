// Wire messages of the bench service: the methods `cerulean bench rpc` drives to measure the rpc
// layer itself. Every server registers it; it does no I/O beyond the network.
#pragma once

#include <cstdint>

#include "rpc/frame.h"
#include "rpc/wire.h"

namespace cerulean::rpc {

inline constexpr uint16_t kBenchService = 2;
// Empty request, empty response: the cost of a round trip.
inline constexpr uint32_t kPingMethod = MethodId(kBenchService, 1);
// Request payload in, nothing back: one-way throughput (the server checks the payload's CRC).
inline constexpr uint32_t kSinkMethod = MethodId(kBenchService, 2);
// Echoes the request payload back as the response payload.
inline constexpr uint32_t kEchoMethod = MethodId(kBenchService, 3);

}  // namespace cerulean::rpc
