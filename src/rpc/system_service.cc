#include "rpc/system_service.h"

#include <memory>

#include "rpc/system_messages.h"

namespace cerulean::rpc {

void RegisterSystemService(ServiceRegistry& registry, SystemServiceInfo info) {
  auto shared = std::make_shared<const SystemServiceInfo>(std::move(info));
  registry.Register(kHealthMethod, "system.health", [shared](RpcContext& context) -> Task<Status> {
    if (!context.request_message.span().empty()) co_return Status::InvalidArgument("health takes no fields");
    HealthResponse response{.serving = shared->serving == nullptr || *shared->serving,
                            .uptime_ms = static_cast<uint64_t>(ToMillis(context.env->Now() - shared->started)),
                            .role = shared->role};
    WireWriter writer(context.response_message);
    Encode(response, writer);
    co_return Status::Ok();
  });
  registry.Register(kVersionMethod, "system.version", [shared](RpcContext& context) -> Task<Status> {
    if (!context.request_message.span().empty()) co_return Status::InvalidArgument("version takes no fields");
    VersionResponse response{.version = shared->version, .build = shared->build,
                             .protocol_version = kProtocolVersion};
    WireWriter writer(context.response_message);
    Encode(response, writer);
    co_return Status::Ok();
  });
}

}  // namespace cerulean::rpc
