#include "cli/server_command.h"

#include <signal.h>

#include <memory>

#include "base/logging.h"
#include "cli/version.h"
#include "rpc/bench_service.h"
#include "rpc/rpc_server.h"
#include "rpc/system_service.h"
#include "runtime/task_group.h"
#include "runtime/uring/shard_set.h"
#include "storage/extent_store.h"
#include "storage/storage_service.h"

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
  bool serving = true;
  rpc::ServiceRegistry registry;
  std::unique_ptr<rpc::RpcServer> server;
  std::unique_ptr<TaskGroup> tasks;
  std::unique_ptr<storage::ExtentStore> store;
  std::unique_ptr<rpc::RpcClient> peers;  // for forwarding appends down a chain
  // A storage node keeps its extents in --data itself; the all-in-one server keeps them in a
  // folder of its data directory, beside what the other roles will store there.
  const std::string storage_directory =
      config.role == "storage" ? config.data_directory : config.data_directory + "/storage";
  const Status started = shards.RunAndWait<Status>(0, [&](Env& env) -> Task<Status> {
    CO_RETURN_IF_ERROR(env.CreateDirectories(config.data_directory));
    rpc::RegisterSystemService(registry, {.role = config.role, .version = kVersion, .build = kBuild,
                                          .started = env.Now(), .serving = &serving});
    rpc::RegisterBenchService(registry);
    auto opened = co_await storage::ExtentStore::Open(env, storage_directory, {});
    if (!opened.ok()) co_return opened.status();
    store = std::move(*opened);
    peers = std::make_unique<rpc::RpcClient>(env);
    storage::RegisterStorageService(registry, *store, *peers);
    server = std::make_unique<rpc::RpcServer>(env, registry);
    CO_RETURN_IF_ERROR(server->Listen({config.host, config.rpc_port}));
    tasks = std::make_unique<TaskGroup>(env);
    tasks->Spawn(server->Serve());
    co_return Status::Ok();
  });
  if (!started.ok()) {
    LOG_ERROR("server failed to start error={}", started.ToString());
    fmt::print(stderr, "cerulean server: {}\n", started.ToString());
    return 1;
  }
  fmt::print("cerulean server {} ({}) role={} rpc={} data={} storage={}\n", kVersion, kBuild, config.role,
             server->address().ToString(), config.data_directory, storage_directory);
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG_INFO("server stopping signal={}", signal_number);
  shards.RunAndWait<int>(0, [&](Env&) -> Task<int> {
    serving = false;
    co_await server->Shutdown();
    co_await tasks->Join();
    tasks.reset();
    server.reset();
    co_await peers->Close();
    peers.reset();
    co_await store->Close();
    store.reset();
    co_return 0;
  });
  shards.Stop();
  LOG_INFO("server stopped");
  return 0;
}

}  // namespace cerulean::cli
