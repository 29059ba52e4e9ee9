// ServerConfig: what `cerulean server` runs: addresses, data directory, shards, log level.
// Defaults, then an optional JSON config file, then command-line flags, in that order.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace cerulean::cli {

struct ServerConfig {
  std::string role = "all-in-one";
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  uint16_t rpc_port = 7400;
  // The Redis protocol port: unset takes 6379 for all-in-one and none for a storage node; 0 any
  // free port; -1 none.
  std::optional<int> resp_port;
  // The S3 gateway's port: unset takes 9000 for all-in-one and none otherwise; 0 any; -1 none.
  std::optional<int> s3_port;
  // The Azure Blob gateway's port: unset takes 10000 for all-in-one and none otherwise; 0 any;
  // -1 none.
  std::optional<int> azure_port;
  // PEM files: with both, the S3 and Azure gateways speak HTTPS on their ports.
  std::string tls_certificate;
  std::string tls_key;
  std::string data_directory = "./cerulean-data";
  std::string log_level = "info";
  size_t shards = 1;
  // How long an idle shard polls for work before it sleeps (EventLoopOptions::poll_before_sleep).
  uint32_t poll_us = 50;
  // Storage role: meta's host:port.
  std::string meta_address;
  // Meta: replicas of new extents (all-in-one has one storage node, so 1).
  size_t replicas = 1;
  // How long a storage node may stay silent before meta marks it down.
  uint32_t down_after_ms = 10'000;
  // A storage node's KV cache: its DRAM tier, and its SSD tier (0: none).
  uint64_t kv_dram_mib = 1024;
  uint64_t kv_ssd_mib = 4096;
  // A storage node's payload cache: verified bytes of hot records up to 1 MiB (0: none).
  uint64_t read_cache_mib = 256;
};

// Reads a JSON object with any of the keys "role", "host", "rpc_port", "resp_port", "s3_port", "azure_port", "tls_cert", "tls_key", "data", "log_level",
// "shards", "poll_us", "meta", "replicas", "down_after_ms", "kv_dram_mib", "kv_ssd_mib", "read_cache_mib".
// Unknown keys and wrong types are errors that name the key.
Result<ServerConfig> LoadServerConfig(const std::string& path, ServerConfig defaults);

}  // namespace cerulean::cli
