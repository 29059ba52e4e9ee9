#include "cli/server_config.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cerulean::cli {

Result<ServerConfig> LoadServerConfig(const std::string& path, ServerConfig config) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(fmt::format("config file '{}' cannot be opened", path));
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Status::InvalidArgument(fmt::format("config file '{}' is not a JSON object", path));
  }
  for (auto& [key, value] : json.items()) {
    const auto wrong_type = [&](const char* expected) {
      return Status::InvalidArgument(fmt::format("config '{}': key '{}' must be {}", path, key, expected));
    };
    if (key == "role") {
      if (!value.is_string() || (value != "all-in-one" && value != "meta" && value != "storage")) {
        return wrong_type("\"all-in-one\", \"meta\" or \"storage\"");
      }
      config.role = value.get<std::string>();
    } else if (key == "host") {
      if (!value.is_string()) return wrong_type("a string");
      config.host = value.get<std::string>();
    } else if (key == "rpc_port") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() > 65535) return wrong_type("a port number");
      config.rpc_port = static_cast<uint16_t>(value.get<uint64_t>());
    } else if (key == "resp_port") {
      if (!value.is_number_integer() || value.get<int64_t>() < -1 || value.get<int64_t>() > 65535) {
        return wrong_type("a port number, or -1 for none");
      }
      config.resp_port = static_cast<int>(value.get<int64_t>());
    } else if (key == "s3_port") {
      if (!value.is_number_integer() || value.get<int64_t>() < -1 || value.get<int64_t>() > 65535) {
        return wrong_type("a port number, or -1 for none");
      }
      config.s3_port = static_cast<int>(value.get<int64_t>());
    } else if (key == "azure_port") {
      if (!value.is_number_integer() || value.get<int64_t>() < -1 || value.get<int64_t>() > 65535) {
        return wrong_type("a port number, or -1 for none");
      }
      config.azure_port = static_cast<int>(value.get<int64_t>());
    } else if (key == "tls_cert") {
      if (!value.is_string()) return wrong_type("a string");
      config.tls_certificate = value.get<std::string>();
    } else if (key == "tls_key") {
      if (!value.is_string()) return wrong_type("a string");
      config.tls_key = value.get<std::string>();
    } else if (key == "data") {
      if (!value.is_string()) return wrong_type("a string");
      config.data_directory = value.get<std::string>();
    } else if (key == "kv_dram_mib") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() < 64 || value.get<uint64_t>() > (1u << 24)) {
        return wrong_type("MiB from 64 to 16777216");
      }
      config.kv_dram_mib = value.get<uint64_t>();
    } else if (key == "kv_ssd_mib") {
      if (!value.is_number_unsigned() || (value.get<uint64_t>() != 0 && value.get<uint64_t>() < 128) ||
          value.get<uint64_t>() > (1ull << 30)) {
        return wrong_type("0 (no SSD tier) or MiB from 128 to 1073741824");
      }
      config.kv_ssd_mib = value.get<uint64_t>();
    } else if (key == "read_cache_mib") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() > (1u << 24)) return wrong_type("MiB from 0 to 16777216");
      config.read_cache_mib = value.get<uint64_t>();
    } else if (key == "log_level") {
      if (!value.is_string()) return wrong_type("a string");
      config.log_level = value.get<std::string>();
    } else if (key == "shards") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() == 0 || value.get<uint64_t>() > 256) {
        return wrong_type("a shard count from 1 to 256");
      }
      config.shards = value.get<size_t>();
    } else if (key == "poll_us") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() > 1'000'000) {
        return wrong_type("microseconds from 0 to 1000000");
      }
      config.poll_us = value.get<uint32_t>();
    } else if (key == "meta") {
      if (!value.is_string()) return wrong_type("a host:port string");
      config.meta_address = value.get<std::string>();
    } else if (key == "replicas") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() == 0 || value.get<uint64_t>() > 3) {
        return wrong_type("a replica count from 1 to 3");
      }
      config.replicas = value.get<size_t>();
    } else if (key == "down_after_ms") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() < 100 || value.get<uint64_t>() > 3'600'000) {
        return wrong_type("milliseconds from 100 to 3600000");
      }
      config.down_after_ms = value.get<uint32_t>();
    } else {
      return Status::InvalidArgument(fmt::format("config '{}': unknown key '{}'", path, key));
    }
  }
  return config;
}

}  // namespace cerulean::cli
