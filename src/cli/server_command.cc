#include "cli/server_command.h"

#include <signal.h>

#include <memory>

#include "base/logging.h"
#include "cli/version.h"
#include "client/client_core.h"
#include "client/kv_client_core.h"
#include "gateway/credentials.h"
#include "http/http_server.h"
#include "resp/resp_server.h"
#include "azure/azure_gateway.h"
#include "s3/s3_gateway.h"
#include "runtime/spawn.h"
#include "runtime/uring/shard_set.h"
#include "server/server_node.h"

namespace cerulean::cli {
namespace {

// The servers in front of the cluster: the Redis protocol (a KV client) and the S3 and Azure Blob
// gateways (sharing one object client), each a client of this node's cluster on a port of its own.
struct FrontEnds {
  std::unique_ptr<client::KvClientCore> kv;
  std::unique_ptr<resp::RespServer> resp;
  std::unique_ptr<client::ClientCore> objects;
  std::unique_ptr<s3::S3Gateway> s3_gateway;
  std::unique_ptr<http::HttpServer> s3;
  std::unique_ptr<azure::AzureGateway> azure_gateway;
  std::unique_ptr<http::HttpServer> azure;
  gateway::Credentials credentials;
  bool credentials_created = false;

  Task<Status> Start(Env& env, const ServerConfig& config, server::ServerNode& node) {
    const std::string meta_address = config.role == "storage" ? config.meta_address : node.address().ToString();
    const int resp_port = config.resp_port.value_or(config.role == "all-in-one" ? 6379 : -1);
    if (resp_port >= 0 && config.role != "meta") {
      KvClientOptions kv_options;
      kv_options.meta_address = meta_address;
      CO_ASSIGN_OR_RETURN(kv, co_await client::KvClientCore::Open(env, kv_options));
      KvNamespaceOptions redis;
      redis.model = "redis";
      redis.dtype = "bytes";
      CO_ASSIGN_OR_RETURN(KvNamespace ns, co_await kv->OpenNamespace(redis));
      resp = std::make_unique<resp::RespServer>(
          env, *kv, ns, resp::RespServerOptions{.listen = NetAddress(config.host, static_cast<uint16_t>(resp_port)),
                                                .version = kVersion});
      Status listening = resp->Listen();
      if (!listening.ok()) co_return Status(listening.code(), fmt::format("RESP port: {}", listening.message()));
      Spawn(env, resp->Serve());
    }
    const int s3_port = config.s3_port.value_or(config.role == "all-in-one" ? 9000 : -1);
    const int azure_port = config.azure_port.value_or(config.role == "all-in-one" ? 10000 : -1);
    std::shared_ptr<http::TlsContext> tls;
    if (config.tls_certificate.empty() != config.tls_key.empty()) {
      co_return Status::InvalidArgument("--tls-cert and --tls-key go together");
    }
    if (!config.tls_certificate.empty()) {
      CO_ASSIGN_OR_RETURN(tls, http::TlsContext::Load(config.tls_certificate, config.tls_key));
    }
    if (s3_port >= 0 || azure_port >= 0) {
      CO_ASSIGN_OR_RETURN(credentials, gateway::LoadOrCreateCredentials(config.data_directory, &credentials_created));
      ClientOptions object_options;
      object_options.meta_address = meta_address;
      CO_ASSIGN_OR_RETURN(objects, co_await client::ClientCore::Open(env, object_options));
    }
    if (s3_port >= 0) {
      s3_gateway = std::make_unique<s3::S3Gateway>(*objects, credentials);
      s3 = std::make_unique<http::HttpServer>(
          env, *s3_gateway, http::HttpServerOptions{.listen = NetAddress(config.host, static_cast<uint16_t>(s3_port)),
                                                    .name = "s3 gateway",
                                                    .tls = tls});
      Status listening = s3->Listen();
      if (!listening.ok()) co_return Status(listening.code(), fmt::format("S3 port: {}", listening.message()));
      Spawn(env, s3->Serve());
    }
    if (azure_port >= 0) {
      azure::AzureGatewayOptions azure_options;
      azure_options.tls = tls != nullptr;
      azure_gateway = std::make_unique<azure::AzureGateway>(*objects, credentials, azure_options);
      azure = std::make_unique<http::HttpServer>(
          env, *azure_gateway,
          http::HttpServerOptions{.listen = NetAddress(config.host, static_cast<uint16_t>(azure_port)),
                                  .name = "azure gateway",
                                  .tls = tls});
      Status listening = azure->Listen();
      if (!listening.ok()) co_return Status(listening.code(), fmt::format("Azure port: {}", listening.message()));
      Spawn(env, azure->Serve());
    }
    co_return Status::Ok();
  }

  Task<void> Stop() {
    if (s3 != nullptr) co_await s3->Shutdown();
    s3.reset();
    s3_gateway.reset();
    if (azure != nullptr) co_await azure->Shutdown();
    azure.reset();
    azure_gateway.reset();
    if (objects != nullptr) co_await objects->Close();
    objects.reset();
    if (resp != nullptr) co_await resp->Shutdown();
    resp.reset();
    if (kv != nullptr) co_await kv->Close();
    kv.reset();
  }
};

}  // namespace

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
  options.store.payload_cache.capacity_bytes = config.read_cache_mib << 20;
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
  // The front ends: clients of this node's cluster, each on its own port.
  FrontEnds front;
  const Status front_started = shards.RunAndWait<Status>(0, [&](Env& env) -> Task<Status> {
    co_return co_await front.Start(env, config, *node);
  });
  if (!front_started.ok()) {
    LOG_ERROR("front ends failed to start error={}", front_started.ToString());
    fmt::print(stderr, "cerulean server: {}\n", front_started.ToString());
    shards.RunAndWait<int>(0, [&](Env&) -> Task<int> {
      co_await front.Stop();
      co_await node->Stop();
      node.reset();
      co_return 0;
    });
    shards.Stop();
    return 1;
  }
  if (front.credentials_created) {
    fmt::print("gateway credentials (stored in {}/credentials.json):\n  s3 access key: {}\n  s3 secret key: {}\n"
               "  azure account: {}\n  azure key: {}\n",
               config.data_directory, front.credentials.s3_access_key, front.credentials.s3_secret_key,
               front.credentials.azure_account, front.credentials.azure_key);
  }
  fmt::print("cerulean server {} ({}) role={} rpc={}{}{}{} data={}{}\n", kVersion, kBuild, config.role,
             node->address().ToString(), front.resp != nullptr ? " resp=" + front.resp->address().ToString() : "",
             front.s3 != nullptr ? " s3=" + front.s3->address().ToString() : "",
             front.azure != nullptr ? " azure=" + front.azure->address().ToString() : "", config.data_directory,
             node->node_id().empty() ? "" : " node=" + node->node_id());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG_INFO("server stopping signal={}", signal_number);
  shards.RunAndWait<int>(0, [&](Env&) -> Task<int> {
    co_await front.Stop();
    co_await node->Stop();
    node.reset();
    co_return 0;
  });
  shards.Stop();
  LOG_INFO("server stopped");
  return 0;
}

}  // namespace cerulean::cli
