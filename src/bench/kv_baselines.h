// The KV benchmark's same-run baselines: a redis-server (persistence off) driven by
// redis-benchmark, and a memcached driven by a small multi-get load generator of our own
// (Debian has no memcached benchmark tool). Each server runs as a child process on a free
// loopback port and is stopped on destruction; a missing binary leaves it not running.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>

#include "base/time.h"

namespace cerulean::bench {

// A load generator's figures: requests (keys) per second, value bytes per second, and the
// latency of one request (one pipelined batch for memcached) in microseconds.
struct KvLoadResult {
  double ops_per_second = 0;
  double bytes_per_second = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0;
};

// A loopback port free right now.
int FreeLoopbackPort();

// redis-benchmark GETs of `bytes`-byte values, `pipeline` deep on 16 connections, against
// whatever speaks RESP on `port` (SETs first, so that the GETs hit). Nothing if it failed.
std::optional<KvLoadResult> RedisBenchmarkGets(int port, size_t bytes, size_t pipeline, size_t requests);

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class MemcachedServer {
 public:
  // Values up to `item_bytes_max` (-I), `memory_mib` of cache (-m).
  MemcachedServer(size_t item_bytes_max, size_t memory_mib);
  ~MemcachedServer();
  bool running() const { return pid_ > 0; }
  // Stores `keys` values of `bytes`, then multi-gets `depth` random ones per request on
  // `connections` connections (one request in flight on each) for `duration`. Each connection
  // lands its values in a destination of its own, `depth` × `bytes`, reading large values from
  // the socket straight into it: the memory Cerulean's streams receive into, the same way.
  std::optional<KvLoadResult> Gets(size_t bytes, size_t keys, size_t depth, size_t connections, Duration duration) const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cerulean::bench
