// BenchService: ping, sink and echo (bench_messages.h), the peers of `cerulean bench rpc`.
#pragma once

#include "rpc/service_registry.h"

namespace cerulean::rpc {

void RegisterBenchService(ServiceRegistry& registry);

}  // namespace cerulean::rpc
