// The plain-socket baselines that rpc benchmarks are held against, measured in the same run:
// a blocking request/response ping-pong and a blocking streaming sender, each between two
// threads pinned to different cores over loopback. No framing, no checksums: the floor.
#pragma once

#include <cstddef>
#include <vector>

#include "base/time.h"

namespace cerulean::bench {

struct PingPongResult {
  std::vector<double> latencies_us;  // one per round trip, sorted
  double ops_per_second = 0;
};

// `message_bytes` each way, `round_trips` times after `warmup_round_trips`.
PingPongResult MeasureRawPingPong(size_t message_bytes, size_t warmup_round_trips, size_t round_trips,
                                  int server_core, int client_core);

// Bytes per second of one blocking TCP stream sending `chunk_bytes` writes for `duration`.
double MeasureRawStream(size_t chunk_bytes, Duration duration, int receiver_core, int sender_core);

// Runs iperf3 (server and client, single stream) for `duration` if it is installed; returns
// bytes per second, or a negative value when iperf3 is missing or failed.
double MeasureIperf3(Duration duration, int server_core, int client_core);

// Pins the calling thread to `core` (modulo the cores there are); no-op for a negative core.
void PinThisThread(int core);

}  // namespace cerulean::bench
