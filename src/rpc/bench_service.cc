#include "rpc/bench_service.h"

#include "rpc/bench_messages.h"

namespace cerulean::rpc {

void RegisterBenchService(ServiceRegistry& registry) {
  registry.Register(kPingMethod, "bench.ping", [](RpcContext&) -> Task<Status> { co_return Status::Ok(); });
  registry.Register(kSinkMethod, "bench.sink", [](RpcContext&) -> Task<Status> { co_return Status::Ok(); });
  registry.Register(kEchoMethod, "bench.echo", [](RpcContext& context) -> Task<Status> {
    // Hand the received buffer to the response: no copy.
    context.response_payload_owner = std::move(context.request_payload);
    if (!context.response_payload_owner.empty()) {
      context.response_payload.push_back(
          {context.response_payload_owner.data(), context.response_payload_owner.size()});
    }
    co_return Status::Ok();
  });
}

}  // namespace cerulean::rpc
