#include "meta/meta_service.h"

#include "meta/meta_messages.h"

namespace cerulean::meta {
namespace {

template <typename Message>
void Respond(rpc::RpcContext& context, const Message& message) {
  rpc::WireWriter writer(context.response_message);
  Encode(message, writer);
}

Conditions ConditionsOf(const ObjectRequest& request) {
  Conditions conditions;
  conditions.if_match = request.if_match;
  conditions.if_none_match = request.if_none_match;
  return conditions;
}

Task<Status> CreateContainer(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ContainerRequest request, DecodeContainerRequest(context.request_message.span()));
  co_return co_await names.CreateContainer(request.name, std::move(request.record));
}

Task<Status> DeleteContainer(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ContainerRequest request, DecodeContainerRequest(context.request_message.span()));
  co_return co_await names.DeleteContainer(request.name);
}

Task<Status> GetContainer(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ContainerRequest request, DecodeContainerRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(ContainerRecord record, names.GetContainer(request.name));
  ContainerResponse response;
  response.record = std::move(record);
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> SetContainerMetadata(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ContainerRequest request, DecodeContainerRequest(context.request_message.span()));
  co_return co_await names.SetContainerMetadata(request.name, std::move(request.record.metadata));
}

Task<Status> ListContainers(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ListContainersRequest request, DecodeListContainersRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(ContainerListing listing,
                      names.ListContainers(request.prefix, request.start_after, request.max_results));
  ListContainersResponse response;
  response.containers = std::move(listing.containers);
  response.truncated = listing.truncated;
  response.next_start_after = std::move(listing.next_start_after);
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> HeadObject(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ObjectRequest request, DecodeObjectRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(ObjectRecord record, names.HeadObject(request.container, request.name, ConditionsOf(request)));
  ObjectResponse response;
  response.record = std::move(record);
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> DeleteObject(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ObjectRequest request, DecodeObjectRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(ObjectRecord record,
                      co_await names.DeleteObject(request.container, request.name, ConditionsOf(request)));
  ObjectResponse response;
  response.record = std::move(record);
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> ListObjects(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ListObjectsRequest request, DecodeListObjectsRequest(context.request_message.span()));
  ListObjectsOptions options;
  options.prefix = std::move(request.prefix);
  options.delimiter = std::move(request.delimiter);
  options.start_after = std::move(request.start_after);
  options.max_results = request.max_results;
  CO_ASSIGN_OR_RETURN(ObjectListing listing, names.ListObjects(request.container, options));
  ListObjectsResponse response;
  response.objects = std::move(listing.objects);
  response.common_prefixes = std::move(listing.common_prefixes);
  response.truncated = listing.truncated;
  response.next_start_after = std::move(listing.next_start_after);
  Respond(context, response);
  co_return Status::Ok();
}

}  // namespace

void RegisterMetaService(rpc::ServiceRegistry& registry, Namespace& names) {
  Namespace* n = &names;
  registry.Register(kCreateContainerMethod, "meta.create_container", [n](rpc::RpcContext& c) { return CreateContainer(*n, c); });
  registry.Register(kDeleteContainerMethod, "meta.delete_container", [n](rpc::RpcContext& c) { return DeleteContainer(*n, c); });
  registry.Register(kGetContainerMethod, "meta.get_container", [n](rpc::RpcContext& c) { return GetContainer(*n, c); });
  registry.Register(kListContainersMethod, "meta.list_containers", [n](rpc::RpcContext& c) { return ListContainers(*n, c); });
  registry.Register(kSetContainerMetadataMethod, "meta.set_container_metadata",
                    [n](rpc::RpcContext& c) { return SetContainerMetadata(*n, c); });
  registry.Register(kHeadObjectMethod, "meta.head_object", [n](rpc::RpcContext& c) { return HeadObject(*n, c); });
  registry.Register(kDeleteObjectMethod, "meta.delete_object", [n](rpc::RpcContext& c) { return DeleteObject(*n, c); });
  registry.Register(kListObjectsMethod, "meta.list_objects", [n](rpc::RpcContext& c) { return ListObjects(*n, c); });
}

}  // namespace cerulean::meta
