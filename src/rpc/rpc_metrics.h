// RpcMetrics: the counters the rpc layer keeps in the process-wide registry. Thread-safe.
#pragma once

#include <string_view>

#include "base/metrics.h"
#include "base/status.h"

namespace cerulean::rpc {

struct RpcMetrics {
  Counter& server_connections_accepted;
  Gauge& server_connections_open;
  Counter& server_requests;
  Counter& server_requests_failed;
  Counter& client_calls;
  Counter& client_calls_failed;
  Counter& client_connects;
  Counter& client_connect_failures;

  static RpcMetrics& Get();
  // Counts a frame that made a connection close: reason is "malformed", "oversized",
  // "checksum" or "truncated", derived from the decoding error.
  static void CountRejectedFrame(std::string_view side, const Status& error);
  static std::string_view RejectionReason(const Status& error);
};

}  // namespace cerulean::rpc
