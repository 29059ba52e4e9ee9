#include "rpc/service_registry.h"

#include "base/check.h"

namespace cerulean::rpc {

void ServiceRegistry::Register(uint32_t method_id, std::string name, RpcHandler handler,
                               bool handler_checks_payload_crc) {
  CHECK(handler != nullptr);
  const bool inserted =
      methods_.emplace(method_id, Method{std::move(name), std::move(handler), handler_checks_payload_crc}).second;
  CHECK(inserted) << "method " << method_id << " registered twice";
}

const ServiceRegistry::Method* ServiceRegistry::Find(uint32_t method_id) const {
  auto it = methods_.find(method_id);
  return it == methods_.end() ? nullptr : &it->second;
}

}  // namespace cerulean::rpc
