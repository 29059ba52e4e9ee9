#include "cli/remote_commands.h"

#include <fmt/format.h>

#include "rpc/rpc_client.h"
#include "rpc/system_messages.h"
#include "runtime/uring/shard_set.h"

namespace cerulean::cli {

Result<rpc::CallResult> CallOnce(const NetAddress& target, uint32_t method) {
  ShardSet shards({.shard_count = 1});
  return shards.RunAndWait<Result<rpc::CallResult>>(0, [&](Env& env) -> Task<Result<rpc::CallResult>> {
    rpc::RpcClient client(env, {.connect_timeout = std::chrono::seconds(2)});
    auto result = co_await client.Call(target, method, {}, {}, {.timeout = std::chrono::seconds(5)});
    co_await client.Close();
    co_return result;
  });
}

int RunHealth(const NetAddress& target) {
  auto result = CallOnce(target, rpc::kHealthMethod);
  if (!result.ok()) {
    fmt::print(stderr, "cerulean health {}: {}\n", target.ToString(), result.status().ToString());
    return 1;
  }
  auto health = rpc::DecodeHealthResponse(result->message.span());
  if (!health.ok()) {
    fmt::print(stderr, "cerulean health {}: bad response: {}\n", target.ToString(), health.status().ToString());
    return 1;
  }
  fmt::print("{} {} role={} uptime_ms={}\n", target.ToString(), health->serving ? "serving" : "draining",
             health->role, health->uptime_ms);
  return health->serving ? 0 : 1;
}

int RunRemoteVersion(const NetAddress& target) {
  auto result = CallOnce(target, rpc::kVersionMethod);
  if (!result.ok()) {
    fmt::print(stderr, "cerulean version {}: {}\n", target.ToString(), result.status().ToString());
    return 1;
  }
  auto version = rpc::DecodeVersionResponse(result->message.span());
  if (!version.ok()) {
    fmt::print(stderr, "cerulean version {}: bad response: {}\n", target.ToString(), version.status().ToString());
    return 1;
  }
  fmt::print("{} cerulean {} ({}) protocol {}\n", target.ToString(), version->version, version->build,
             version->protocol_version);
  return 0;
}

}  // namespace cerulean::cli
