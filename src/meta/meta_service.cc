#include "meta/meta_service.h"

#include "meta/meta_messages.h"
#include "meta/meta_node.h"

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
  request.record.created_unix_ns = WallClockUnixNanos();  // meta's clock, not the caller's
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

Task<Status> SetObjectProperties(Namespace& names, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(SetObjectPropertiesRequest request,
                      DecodeSetObjectPropertiesRequest(context.request_message.span()));
  PropertiesUpdate update;
  update.set_content = request.set_content;
  update.content_type = std::move(request.content_type);
  update.headers = std::move(request.headers);
  update.set_metadata = request.set_metadata;
  update.metadata = std::move(request.metadata);
  ObjectResponse response;
  CO_ASSIGN_OR_RETURN(response.record, co_await names.SetObjectProperties(request.object.container, request.object.name,
                                                                          std::move(update), ConditionsOf(request.object)));
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
  // A listed object takes ~100 bytes: one allocation for the page, not a doubling series.
  context.response_message.Reserve(64 + 128 * (response.objects.size() + response.common_prefixes.size()));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> OpenKvNamespace(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(kv::KvOpenNamespaceRequest request, kv::DecodeKvOpenNamespaceRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(kv::KvNamespaceResponse response, co_await meta.OpenKvNamespace(std::move(request.spec)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> KvNamespaceById(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(kv::KvNamespaceByIdRequest request, kv::DecodeKvNamespaceByIdRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(kv::KvNamespaceResponse response, meta.KvNamespaceById(request.id));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> BeginPut(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(BeginPutRequest request, DecodeBeginPutRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(BeginPutResponse response, co_await meta.BeginPut(std::move(request)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> CommitPut(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(CommitPutRequest request, DecodeCommitPutRequest(context.request_message.span()));
  ObjectResponse response;
  CO_ASSIGN_OR_RETURN(response.record, co_await meta.CommitPut(std::move(request)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> GetLayout(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ObjectRequest request, DecodeObjectRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(LayoutResponse response, meta.GetLayout(request.container, request.name, ConditionsOf(request)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> LocateExtents(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(LocateExtentsRequest request, DecodeLocateExtentsRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(LocateExtentsResponse response, meta.LocateExtents(request));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> ReportExtentFailure(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ExtentFailureRequest request, DecodeExtentFailureRequest(context.request_message.span()));
  co_return co_await meta.ReportExtentFailure(std::move(request));
}

Task<Status> ReportNode(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(NodeReportRequest request, DecodeNodeReportRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(NodeReportResponse response, co_await meta.ReportNode(std::move(request)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> ClusterStatus(MetaNode& meta, rpc::RpcContext& context) {
  Respond(context, meta.ClusterStatus());
  co_return Status::Ok();
}

Task<Status> CreateUpload(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(CreateUploadRequest request, DecodeCreateUploadRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(CreateUploadResponse response, co_await meta.CreateUpload(std::move(request)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> StageBlock(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(StageBlockRequest request, DecodeStageBlockRequest(context.request_message.span()));
  co_return co_await meta.StageBlock(std::move(request));
}

Task<Status> CommitBlocks(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(CommitBlocksRequest request, DecodeCommitBlocksRequest(context.request_message.span()));
  ObjectResponse response;
  CO_ASSIGN_OR_RETURN(response.record, co_await meta.CommitBlocks(std::move(request)));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> ListBlocks(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(UploadRequest request, DecodeUploadRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(ListBlocksResponse response, meta.ListBlocks(request));
  Respond(context, response);
  co_return Status::Ok();
}

Task<Status> AbortUpload(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(UploadRequest request, DecodeUploadRequest(context.request_message.span()));
  co_return co_await meta.AbortUpload(std::move(request));
}

Task<Status> ListUploads(MetaNode& meta, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ListUploadsRequest request, DecodeListUploadsRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(ListUploadsResponse response, meta.ListUploads(request));
  Respond(context, response);
  co_return Status::Ok();
}

}  // namespace

void RegisterMetaService(rpc::ServiceRegistry& registry, MetaNode& meta) {
  Namespace* n = &meta.names();
  MetaNode* m = &meta;
  registry.Register(kCreateContainerMethod, "meta.create_container", [n](rpc::RpcContext& c) { return CreateContainer(*n, c); });
  registry.Register(kDeleteContainerMethod, "meta.delete_container", [n](rpc::RpcContext& c) { return DeleteContainer(*n, c); });
  registry.Register(kGetContainerMethod, "meta.get_container", [n](rpc::RpcContext& c) { return GetContainer(*n, c); });
  registry.Register(kListContainersMethod, "meta.list_containers", [n](rpc::RpcContext& c) { return ListContainers(*n, c); });
  registry.Register(kSetContainerMetadataMethod, "meta.set_container_metadata",
                    [n](rpc::RpcContext& c) { return SetContainerMetadata(*n, c); });
  registry.Register(kSetObjectPropertiesMethod, "meta.set_object_properties",
                    [n](rpc::RpcContext& c) { return SetObjectProperties(*n, c); });
  registry.Register(kHeadObjectMethod, "meta.head_object", [n](rpc::RpcContext& c) { return HeadObject(*n, c); });
  registry.Register(kDeleteObjectMethod, "meta.delete_object", [n](rpc::RpcContext& c) { return DeleteObject(*n, c); });
  registry.Register(kListObjectsMethod, "meta.list_objects", [n](rpc::RpcContext& c) { return ListObjects(*n, c); });
  registry.Register(kBeginPutMethod, "meta.begin_put", [m](rpc::RpcContext& c) { return BeginPut(*m, c); });
  registry.Register(kCommitPutMethod, "meta.commit_put", [m](rpc::RpcContext& c) { return CommitPut(*m, c); });
  registry.Register(kGetLayoutMethod, "meta.get_layout", [m](rpc::RpcContext& c) { return GetLayout(*m, c); });
  registry.Register(kLocateExtentsMethod, "meta.locate_extents", [m](rpc::RpcContext& c) { return LocateExtents(*m, c); });
  registry.Register(kReportExtentFailureMethod, "meta.report_extent_failure",
                    [m](rpc::RpcContext& c) { return ReportExtentFailure(*m, c); });
  registry.Register(kReportNodeMethod, "meta.report_node", [m](rpc::RpcContext& c) { return ReportNode(*m, c); });
  registry.Register(kClusterStatusMethod, "meta.cluster_status", [m](rpc::RpcContext& c) { return ClusterStatus(*m, c); });
  registry.Register(kCreateUploadMethod, "meta.create_upload", [m](rpc::RpcContext& c) { return CreateUpload(*m, c); });
  registry.Register(kStageBlockMethod, "meta.stage_block", [m](rpc::RpcContext& c) { return StageBlock(*m, c); });
  registry.Register(kCommitBlocksMethod, "meta.commit_blocks", [m](rpc::RpcContext& c) { return CommitBlocks(*m, c); });
  registry.Register(kListBlocksMethod, "meta.list_blocks", [m](rpc::RpcContext& c) { return ListBlocks(*m, c); });
  registry.Register(kAbortUploadMethod, "meta.abort_upload", [m](rpc::RpcContext& c) { return AbortUpload(*m, c); });
  registry.Register(kListUploadsMethod, "meta.list_uploads", [m](rpc::RpcContext& c) { return ListUploads(*m, c); });
  registry.Register(kKvOpenNamespaceMethod, "meta.kv_open_namespace",
                    [m](rpc::RpcContext& c) { return OpenKvNamespace(*m, c); });
  registry.Register(kKvNamespaceByIdMethod, "meta.kv_namespace_by_id",
                    [m](rpc::RpcContext& c) { return KvNamespaceById(*m, c); });
}

}  // namespace cerulean::meta
