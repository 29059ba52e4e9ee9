// SystemService: health and version, answered by every Cerulean server. Registering it binds the
// service to the Env of the shard it runs on (for uptime). Single loop.
#pragma once

#include <string>

#include "rpc/service_registry.h"

namespace cerulean::rpc {

struct SystemServiceInfo {
  std::string role = "all-in-one";
  std::string version;
  std::string build;
  TimePoint started;
  // Read by health: false once the server has begun to drain.
  const bool* serving = nullptr;
};

void RegisterSystemService(ServiceRegistry& registry, SystemServiceInfo info);

}  // namespace cerulean::rpc
