#include "cli/server_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cerulean::cli {
namespace {

std::string WriteTemp(const std::string& text) {
  const std::string path = std::filesystem::temp_directory_path() / ("cerulean-config-" + std::to_string(getpid()) + ".json");
  std::ofstream(path) << text;
  return path;
}

TEST(ServerConfigTest, ReadsEveryKey) {
  const std::string path = WriteTemp(R"({"host":"0.0.0.0","rpc_port":9000,"data":"/tmp/x","log_level":"debug","shards":2,"poll_us":0,"read_cache_mib":0})");
  auto config = LoadServerConfig(path, {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->host, "0.0.0.0");
  EXPECT_EQ(config->rpc_port, 9000);
  EXPECT_EQ(config->data_directory, "/tmp/x");
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->shards, 2u);
  EXPECT_EQ(config->poll_us, 0u);
  EXPECT_EQ(config->read_cache_mib, 0u);
  std::filesystem::remove(path);
}

TEST(ServerConfigTest, ClearErrorsNamingTheKey) {
  const std::string unknown = WriteTemp(R"({"prot": 1})");
  auto a = LoadServerConfig(unknown, {});
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("'prot'"), std::string::npos);
  const std::string wrong = WriteTemp(R"({"rpc_port": 70000})");
  EXPECT_NE(LoadServerConfig(wrong, {}).status().message().find("rpc_port"), std::string::npos);
  const std::string cache = WriteTemp(R"({"read_cache_mib": -1})");
  EXPECT_NE(LoadServerConfig(cache, {}).status().message().find("read_cache_mib"), std::string::npos);
  const std::string broken = WriteTemp("{not json");
  EXPECT_EQ(LoadServerConfig(broken, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadServerConfig("/nonexistent/cerulean.json", {}).status().code(), StatusCode::kNotFound);
  std::filesystem::remove(unknown);
}

}  // namespace
}  // namespace cerulean::cli
