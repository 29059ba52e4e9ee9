#include "rpc/rpc_metrics.h"

#include <string>

namespace cerulean::rpc {

RpcMetrics& RpcMetrics::Get() {
  static RpcMetrics metrics{
      DefaultMetrics().GetCounter("cerulean_rpc_server_connections_accepted_total", "Connections accepted"),
      DefaultMetrics().GetGauge("cerulean_rpc_server_connections_open", "Server connections open"),
      DefaultMetrics().GetCounter("cerulean_rpc_server_requests_total", "Requests served"),
      DefaultMetrics().GetCounter("cerulean_rpc_server_requests_failed_total", "Requests answered with an error"),
      DefaultMetrics().GetCounter("cerulean_rpc_client_calls_total", "Calls made"),
      DefaultMetrics().GetCounter("cerulean_rpc_client_calls_failed_total", "Calls that failed"),
      DefaultMetrics().GetCounter("cerulean_rpc_client_connects_total", "Connections opened"),
      DefaultMetrics().GetCounter("cerulean_rpc_client_connect_failures_total", "Connection attempts that failed"),
  };
  return metrics;
}

std::string_view RpcMetrics::RejectionReason(const Status& error) {
  switch (error.code()) {
    case StatusCode::kDataLoss: return "checksum";
    case StatusCode::kResourceExhausted: return "oversized";
    case StatusCode::kUnavailable: return "truncated";
    default: return "malformed";
  }
}

void RpcMetrics::CountRejectedFrame(std::string_view side, const Status& error) {
  DefaultMetrics()
      .GetCounter("cerulean_rpc_frames_rejected_total", "Frames that closed their connection",
                  {{"side", std::string(side)}, {"reason", std::string(RejectionReason(error))}})
      .Increment();
}

}  // namespace cerulean::rpc
