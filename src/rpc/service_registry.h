// ServiceRegistry: the methods a server answers, by method id (service << 16 | method). Filled
// before the server starts, read-only afterwards, so shards may share one.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "rpc/rpc_context.h"
#include "runtime/task.h"

namespace cerulean::rpc {

// A handler reads context.request_* and fills context.response_*; a non-ok status is sent back
// to the caller instead of the response (its message text travels with it).
using RpcHandler = std::function<Task<Status>(RpcContext& context)>;

class ServiceRegistry {
 public:
  struct Method {
    std::string name;  // "system.health"; used in logs and metrics
    RpcHandler handler;
    // The handler checks the request payload against its CRC itself, in a pass it makes anyway
    // (a storage append computes the record's checksums): the server does not, and the context
    // says so (RpcContext::request_payload_verified).
    bool handler_checks_payload_crc = false;
  };

  void Register(uint32_t method_id, std::string name, RpcHandler handler, bool handler_checks_payload_crc = false);
  const Method* Find(uint32_t method_id) const;
  const std::map<uint32_t, Method>& methods() const { return methods_; }

 private:
  std::map<uint32_t, Method> methods_;
};

}  // namespace cerulean::rpc
