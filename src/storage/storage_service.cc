#include "storage/storage_service.h"

#include "base/metrics.h"
#include "runtime/when_all.h"
#include "storage/storage_messages.h"

namespace cerulean::storage {
namespace {

Task<Status> CreateExtent(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeCreateExtentRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  co_return co_await store.Create(request->extent_id, request->durability);
}

Task<Status> Append(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeAppendRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  // The payload arrived 4 KiB-aligned in a pooled buffer: it goes to disk from there.
  auto appended = co_await store.Append(request->extent_id, std::move(context.request_payload), request->owner);
  if (!appended.ok()) co_return appended.status();
  rpc::WireWriter writer(context.response_message);
  Encode(AppendResponse{.record_offset = appended->record_offset, .sequence = appended->sequence,
                        .payload_bytes = appended->payload_bytes, .payload_crc = appended->payload_crc,
                        .extent_length = appended->extent_length},
         writer);
  co_return Status::Ok();
}

Task<Result<ReadResult>> ReadOne(ExtentStore& store, ReadRange range) {
  co_return co_await store.Read(range.extent_id, range.record_offset, range.offset_in_payload, range.length);
}

Task<Status> Read(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeReadRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  std::vector<Task<Result<ReadResult>>> reads;
  reads.reserve(request->ranges.size());
  for (const ReadRange& range : request->ranges) reads.push_back(ReadOne(store, range));
  std::vector<Result<ReadResult>> results = co_await WhenAll(std::move(reads));
  // Each range succeeds or fails on its own; the bytes of those that succeed follow in order,
  // straight from the buffers they were read into.
  ReadResponse response;
  response.outcomes.reserve(results.size());
  for (Result<ReadResult>& result : results) {
    if (!result.ok()) {
      response.outcomes.push_back({.code = result.status().code()});
      continue;
    }
    response.outcomes.push_back({.code = StatusCode::kOk, .length = result->length});
    if (result->length == 0) continue;
    context.response_payload.push_back({const_cast<std::byte*>(result->bytes().data()), result->length});
    context.response_payload_owners.push_back(std::move(result->buffer));
  }
  rpc::WireWriter writer(context.response_message);
  Encode(response, writer);
  co_return Status::Ok();
}

Task<Status> Seal(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeSealRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  co_return co_await store.Seal(request->extent_id, request->length);
}

Task<Status> ExtentLength(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeExtentRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  auto info = store.Info(request->extent_id);
  if (!info.ok()) co_return info.status();
  rpc::WireWriter writer(context.response_message);
  Encode(ExtentLengthResponse{.length = info->length, .sealed = info->sealed}, writer);
  co_return Status::Ok();
}

Task<Status> DeleteExtent(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeExtentRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  co_return co_await store.Delete(request->extent_id);
}

Task<Status> Stats(ExtentStore& store, rpc::RpcContext& context) {
  if (context.request_message.size() != 0) co_return Status::InvalidArgument("stats takes no fields");
  const DiskUsage usage = store.usage();
  MetricsRegistry& metrics = DefaultMetrics();
  const Histogram& append = metrics.GetHistogram("cerulean_storage_append_latency_ns", "Append latency");
  const Histogram& read = metrics.GetHistogram("cerulean_storage_read_latency_ns", "Read latency");
  StorageStatsResponse response{
      .capacity_bytes = usage.capacity_bytes, .used_bytes = usage.used_bytes, .reserve_bytes = usage.reserve_bytes,
      .extent_count = usage.extent_count, .append_latency_p50_ns = append.Percentile(50),
      .append_latency_p99_ns = append.Percentile(99), .read_latency_p50_ns = read.Percentile(50),
      .read_latency_p99_ns = read.Percentile(99),
      .appends = metrics.GetCounter("cerulean_storage_appends_total", "Records appended").value(),
      .data_loss_events = metrics.GetCounter("cerulean_storage_data_loss_total", "").value()};
  rpc::WireWriter writer(context.response_message);
  Encode(response, writer);
  co_return Status::Ok();
}

}  // namespace

void RegisterStorageService(rpc::ServiceRegistry& registry, ExtentStore& store) {
  ExtentStore* s = &store;
  registry.Register(kCreateExtentMethod, "storage.create_extent", [s](rpc::RpcContext& c) { return CreateExtent(*s, c); });
  registry.Register(kAppendMethod, "storage.append", [s](rpc::RpcContext& c) { return Append(*s, c); });
  registry.Register(kReadMethod, "storage.read", [s](rpc::RpcContext& c) { return Read(*s, c); });
  registry.Register(kSealMethod, "storage.seal", [s](rpc::RpcContext& c) { return Seal(*s, c); });
  registry.Register(kExtentLengthMethod, "storage.extent_length", [s](rpc::RpcContext& c) { return ExtentLength(*s, c); });
  registry.Register(kDeleteExtentMethod, "storage.delete_extent", [s](rpc::RpcContext& c) { return DeleteExtent(*s, c); });
  registry.Register(kStorageStatsMethod, "storage.stats", [s](rpc::RpcContext& c) { return Stats(*s, c); });
}

}  // namespace cerulean::storage
