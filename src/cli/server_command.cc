#include "cli/server_command.h"

#include <signal.h>

#include <memory>

#include "base/logging.h"
#include "cli/version.h"
#include "client/kv_client_core.h"
#include "resp/resp_server.h"
#include "runtime/spawn.h"
#include "runtime/uring/shard_set.h"
#include "server/server_node.h"

namespace cerulean::cli {

int RunServer(const ServerConfig& config) {
  InitLogging(config.log_level);
  // Signals are taken by sigwait below, never by a shard thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ShardSet shards({.shard_count = config.shards,
                   .loop = {.poll_before_sleep = std::chrono::microseconds(config.poll_us)}});
  server::ServerNodeOptions options;
  options.role = config.role;
  options.listen = NetAddress(config.host, config.rpc_port);
  options.data_directory = config.data_directory;
  options.meta_address = config.meta_address;
  options.replicas = config.replicas;
  options.down_after = std::chrono::milliseconds(config.down_after_ms);
  options.kv.dram_bytes = config.kv_dram_mib << 20;
  options.kv_ssd.capacity_bytes = config.kv_ssd_mib << 20;
  options.version = kVersion;
  options.build = kBuild;
  std::unique_ptr<server::ServerNode> node;
  const Status started = shards.RunAndWait<Status>(0, [&](Env& env) -> Task<Status> {
    auto result = co_await server::ServerNode::Start(env, options);
    if (!result.ok()) co_return result.status();
    node = std::move(*result);
    co_return Status::Ok();
  });
  if (!started.ok()) {
    LOG_ERROR("server failed to start error={}", started.ToString());
    fmt::print(stderr, "cerulean server: {}\n", started.ToString());
    return 1;
  }
  // The Redis protocol front end: a KV client of this node's cluster, on its own port.
  const int resp_port = config.resp_port.value_or(config.role == "all-in-one" ? 6379 : -1);
  std::unique_ptr<client::KvClientCore> kv;
  std::unique_ptr<resp::RespServer> resp;
  if (resp_port >= 0 && config.role != "meta") {
    const Status resp_started = shards.RunAndWait<Status>(0, [&](Env& env) -> Task<Status> {
      KvClientOptions kv_options;
      kv_options.meta_address = config.role == "all-in-one" ? node->address().ToString() : config.meta_address;
      CO_ASSIGN_OR_RETURN(kv, co_await client::KvClientCore::Open(env, kv_options));
      KvNamespaceOptions redis;
      redis.model = "redis";
      redis.dtype = "bytes";
      CO_ASSIGN_OR_RETURN(KvNamespace ns, co_await kv->OpenNamespace(redis));
      resp = std::make_unique<resp::RespServer>(
          env, *kv, ns, resp::RespServerOptions{.listen = NetAddress(config.host, static_cast<uint16_t>(resp_port)),
                                                .version = kVersion});
      CO_RETURN_IF_ERROR(resp->Listen());
      Spawn(env, resp->Serve());
      co_return Status::Ok();
    });
    if (!resp_started.ok()) {
      LOG_ERROR("resp front end failed to start error={}", resp_started.ToString());
      fmt::print(stderr, "cerulean server: RESP port: {}\n", resp_started.ToString());
      shards.RunAndWait<int>(0, [&](Env&) -> Task<int> {
        resp.reset();
        if (kv != nullptr) co_await kv->Close();
        co_await node->Stop();
        node.reset();
        co_return 0;
      });
      shards.Stop();
      return 1;
    }
  }
  fmt::print("cerulean server {} ({}) role={} rpc={}{} data={}{}\n", kVersion, kBuild, config.role,
             node->address().ToString(), resp != nullptr ? " resp=" + resp->address().ToString() : "",
             config.data_directory, node->node_id().empty() ? "" : " node=" + node->node_id());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG_INFO("server stopping signal={}", signal_number);
  shards.RunAndWait<int>(0, [&](Env&) -> Task<int> {
    if (resp != nullptr) co_await resp->Shutdown();
    resp.reset();
    if (kv != nullptr) co_await kv->Close();
    kv.reset();
    co_await node->Stop();
    node.reset();
    co_return 0;
  });
  shards.Stop();
  LOG_INFO("server stopped");
  return 0;
}

}  // namespace cerulean::cli
