#include "shm/shm_handlers.h"

#include "shm/shm_messages.h"

namespace cerulean::shm {

Task<Status> HandleRegister(ShmRegions& regions, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(RegisterRequest request, DecodeRegisterRequest(context.request_message.span()));
  co_return regions.Register(request);
}

Task<Status> HandleUnregister(ShmRegions& regions, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(UnregisterRequest request, DecodeUnregisterRequest(context.request_message.span()));
  regions.Unregister(request.region);
  co_return Status::Ok();
}

}  // namespace cerulean::shm
