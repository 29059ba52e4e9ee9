#include "storage/storage_service.h"

#include "base/check.h"
#include "base/crc32c.h"

#include <fmt/format.h>

#include <cstring>

#include "base/metrics.h"
#include "runtime/when_all.h"
#include "shm/shm_handlers.h"
#include "shm/shm_messages.h"
#include "storage/storage_messages.h"

namespace cerulean::storage {
namespace {

// How long a forward may take when the client set no deadline.
constexpr Duration kForwardTimeoutDefault = std::chrono::seconds(30);

Task<Status> CreateExtent(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeCreateExtentRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  co_return co_await store.Create(request->extent_id, request->durability, request->chain_version);
}

Task<void> AppendLocally(ExtentStore& store, uint64_t extent_id, std::span<std::byte> payload, size_t room,
                         AppendOptions options, Result<AppendResult>* out) {
  *out = co_await store.Append(extent_id, payload, room, options);
}

Task<void> Forward(rpc::RpcClient& peers, NetAddress successor, std::span<const std::byte> message,
                   std::span<const iovec> payload, rpc::CallOptions options, Result<rpc::CallResult>* out) {
  *out = co_await peers.Call(std::move(successor), kAppendMethod, message, payload, options);
}

// The record's payload is `payload` (with `room` bytes to pad it in place): the request's, or
// the client's shared memory. `expected_crc` is checked as the store computes the record's
// checksums; `forward_crc` travels down the chain with the bytes.
Task<Status> AppendAndForward(ExtentStore& store, rpc::RpcClient& peers, rpc::RpcContext& context,
                              const AppendRequest* request, std::span<std::byte> payload, size_t room,
                              std::optional<uint32_t> expected_crc, uint32_t forward_crc) {
  std::vector<NetAddress> successors;
  for (const std::string& text : request->successors) {
    auto address = NetAddress::Parse(text);
    if (!address.ok()) co_return address.status();
    successors.push_back(std::move(*address));
  }
  // The head picks the offset; every replica after it must put the record at the same place.
  uint64_t offset = request->expected_offset;
  if (offset == kAnyOffset) {
    auto info = store.Info(request->extent_id);
    if (!info.ok()) co_return info.status();
    offset = info->next_offset;
  }
  const AppendOptions options{.owner = request->owner, .expected_offset = offset,
                              .chain_version = request->chain_version, .expected_payload_crc = expected_crc,
                              .cancel = context.cancel};
  // The payload goes to disk, and down the chain, from where it is: no copy on this node.
  Result<AppendResult> appended = Status::Unknown("not run");
  if (successors.empty()) {
    co_await AppendLocally(store, request->extent_id, payload, room, options, &appended);
  } else {
    AppendRequest next = *request;
    next.expected_offset = offset;
    next.successors.erase(next.successors.begin());
    rpc::MessageBuffer forward_message = rpc::EncodeMessage(next);
    iovec piece{payload.data(), payload.size()};
    const std::span<const iovec> forward_payload =
        piece.iov_len == 0 ? std::span<const iovec>() : std::span<const iovec>(&piece, 1);
    const TimePoint now = context.env->Now();
    const Duration timeout = context.deadline == TimePoint::Max() ? kForwardTimeoutDefault : context.deadline - now;
    Result<rpc::CallResult> forwarded = Status::Unknown("not run");
    // Locally and down the chain at once; both finish before the payload can go away.
    std::vector<Task<void>> both;
    both.push_back(AppendLocally(store, request->extent_id, payload, room, options, &appended));
    both.push_back(Forward(peers, successors[0], forward_message.span(), forward_payload,
                           {.timeout = timeout, .cancel = context.cancel, .payload_crc = forward_crc}, &forwarded));
    co_await WhenAll(std::move(both));
    if (appended.ok() && !forwarded.ok()) {
      co_return Status(forwarded.status().code(),
                       fmt::format("replica {}: {}", successors[0].ToString(), forwarded.status().message()));
    }
    if (appended.ok()) {
      auto downstream = DecodeAppendResponse(forwarded->message.span());
      if (!downstream.ok()) co_return downstream.status();
      if (downstream->record_offset != appended->record_offset || downstream->payload_crc != appended->payload_crc) {
        co_return Status::Internal(fmt::format("replica {} stored the record at {} (crc {:#x}), not {} (crc {:#x})",
                                               successors[0].ToString(), downstream->record_offset,
                                               downstream->payload_crc, appended->record_offset,
                                               appended->payload_crc));
      }
    }
  }
  if (!appended.ok()) co_return appended.status();
  rpc::WireWriter writer(context.response_message);
  Encode(AppendResponse{.record_offset = appended->record_offset, .sequence = appended->sequence,
                        .payload_bytes = appended->payload_bytes, .payload_crc = appended->payload_crc,
                        .extent_length = appended->extent_length},
         writer);
  co_return Status::Ok();
}

Task<Status> Append(ExtentStore& store, rpc::RpcClient& peers, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(AppendRequest request, DecodeAppendRequest(context.request_message.span()));
  // The payload arrived 4 KiB-aligned in a pooled buffer. The rpc layer left its CRC to the
  // store, which checks it while it computes the record's checksums: one pass, not two.
  std::optional<uint32_t> expected_crc;
  if (!context.request_payload_verified) expected_crc = context.request_payload_crc;
  co_return co_await AppendAndForward(store, peers, context, &request, context.request_payload.span(),
                                      context.request_payload.capacity(), expected_crc, context.request_payload_crc);
}

// A same-host client's append: the payload is in its shared region, written to disk (and sent
// down the chain) from there; no socket carried it to this node.
Task<Status> AppendShared(ExtentStore& store, rpc::RpcClient& peers, shm::ShmRegions& regions, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(AppendSharedRequest request, DecodeAppendSharedRequest(context.request_message.span()));
  if (context.request_payload.size() != 0) co_return Status::InvalidArgument("a shared append carries no payload");
  CO_ASSIGN_OR_RETURN(std::shared_ptr<shm::ShmRegion> region, regions.Find(request.region));
  CO_ASSIGN_OR_RETURN(std::span<std::byte> memory, region->At(request.at, request.room));
  // `region` stays mapped until the append is durable (and forwarded), even if unregistered.
  Status appended = co_await AppendAndForward(store, peers, context, &request.append, memory.first(request.bytes),
                                              request.room, request.payload_crc, request.payload_crc);
  static Counter& shared_bytes = DefaultMetrics().GetCounter("cerulean_storage_shared_append_bytes_total",
                                                             "Bytes appended from same-host clients' shared memory");
  if (appended.ok()) shared_bytes.Increment(request.bytes);
  co_return appended;
}

Task<Result<ReadResult>> ReadOne(ExtentStore& store, ReadRange range, std::span<std::byte> landing = {},
                                 bool may_answer_from_cache = false) {
  co_return co_await store.Read(range.extent_id, range.record_offset, range.offset_in_payload, range.length, landing,
                                may_answer_from_cache);
}

Task<Result<ReadResult>> Failed(Status status) { co_return status; }

// A registration of a same-host client's region, answered with the read cache's memory for the
// client to map and copy hot records out of itself.
Task<Status> ShmRegister(ExtentStore& store, shm::ShmRegions& regions, rpc::RpcContext& context) {
  CO_RETURN_IF_ERROR(co_await shm::HandleRegister(regions, context));
  if (const PayloadCacheView* view = store.payload_cache_view()) {
    rpc::WireWriter writer(context.response_message);
    Encode(shm::RegisterResponse{.bytes = view->bytes, .pid = view->pid, .fd = view->fd, .name = view->name}, writer);
  }
  co_return Status::Ok();
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
  // The payload's CRC, combined from the ranges' own: no pass over the bytes.
  uint32_t payload_crc = 0;
  for (Result<ReadResult>& result : results) {
    if (!result.ok()) {
      response.outcomes.push_back({.code = result.status().code()});
      continue;
    }
    response.outcomes.push_back({.code = StatusCode::kOk, .length = result->length});
    if (result->length == 0) continue;
    payload_crc = Crc32cCombine(payload_crc, result->crc, result->length);
    context.response_payload.push_back({const_cast<std::byte*>(result->bytes().data()), result->length});
    if (result->cached != nullptr) {
      context.response_payload_holds.push_back(std::move(result->cached));  // sent from the payload cache
    } else {
      context.response_payload_owners.push_back(std::move(result->buffer));
    }
  }
  context.response_payload_crc = payload_crc;
  context.response_payload_verified = true;  // every range was verified as it was read
  rpc::WireWriter writer(context.response_message);
  Encode(response, writer);
  co_return Status::Ok();
}

// The disk reads go straight into the client's region and are verified there: no copy on this
// node, no socket for the bytes.
Task<Status> ReadShared(ExtentStore& store, shm::ShmRegions& regions, rpc::RpcContext& context) {
  CO_ASSIGN_OR_RETURN(ReadSharedRequest request, DecodeReadSharedRequest(context.request_message.span()));
  CO_ASSIGN_OR_RETURN(std::shared_ptr<shm::ShmRegion> region, regions.Find(request.region));
  std::vector<std::span<std::byte>> landings;
  landings.reserve(request.ranges.size());
  for (const SharedReadRange& shared : request.ranges) {
    CO_ASSIGN_OR_RETURN(std::span<std::byte> landing, region->At(shared.at, shared.room));
    landings.push_back(landing);
  }
  std::vector<Task<Result<ReadResult>>> reads;
  reads.reserve(request.ranges.size());
  for (size_t i = 0; i < request.ranges.size(); i++) {
    // Room for whatever the read may put there, or the range fails on its own. (The store
    // checks a landing too, but takes an empty one as a read into its own memory.)
    const uint64_t needed = ReadLandingBytes(request.ranges[i].range.length);
    if (landings[i].size() < needed) {
      reads.push_back(Failed(Status::InvalidArgument(fmt::format(
          "a read of {} bytes needs {} bytes of room to land in, not {}", request.ranges[i].range.length, needed,
          landings[i].size()))));
      continue;
    }
    reads.push_back(ReadOne(store, request.ranges[i].range, landings[i], request.from_cache));
  }
  // `region` stays mapped until every read has landed, even if the client unregisters it.
  std::vector<Result<ReadResult>> results = co_await WhenAll(std::move(reads));
  static Counter& shared_bytes =
      DefaultMetrics().GetCounter("cerulean_storage_shared_read_bytes_total", "Bytes read into same-host clients' shared memory");
  static Counter& cache_bytes = DefaultMetrics().GetCounter(
      "cerulean_storage_shared_cache_read_bytes_total", "Bytes same-host clients copied out of the read cache themselves");
  ReadSharedResponse response;
  response.outcomes.reserve(results.size());
  for (size_t i = 0; i < results.size(); i++) {
    if (!results[i].ok()) {
      response.outcomes.push_back({.code = results[i].status().code()});
      continue;
    }
    const ReadResult& result = *results[i];
    // The client checks the bytes against their CRC as it copies them out.
    SharedReadOutcome outcome{.code = StatusCode::kOk, .offset = request.ranges[i].at, .length = result.length, .crc = result.crc};
    if (result.length == 0) {
      // Nothing to copy.
    } else if (!result.landed.empty()) {
      outcome.offset = static_cast<uint64_t>(result.bytes().data() - landings[i].data()) + request.ranges[i].at;
    } else if (result.cached != nullptr) {
      outcome.in_cache = true;
      outcome.offset = store.LendCached(result);
      cache_bytes.Increment(result.length);
    } else {
      // A small record read into this node's memory for the cache, but not kept.
      CHECK(landings[i].size() >= result.length);
      std::memcpy(landings[i].data(), result.bytes().data(), result.length);
    }
    response.outcomes.push_back(outcome);
    shared_bytes.Increment(result.length);
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

Task<Status> FreezeExtent(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeExtentRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  auto info = co_await store.Freeze(request->extent_id);
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

// Bytes of records fetched per round of a copy.
constexpr uint64_t kCopyChunkBytes = 8ull << 20;

Task<Status> ReadRecords(ExtentStore& store, rpc::RpcContext& context) {
  auto request = DecodeReadRecordsRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  auto info = store.Info(request->extent_id);
  if (!info.ok()) co_return info.status();
  auto records = co_await store.ReadRecords(request->extent_id, request->from_offset,
                                            std::min(request->bytes_max, kCopyChunkBytes));
  if (!records.ok()) co_return records.status();
  rpc::WireWriter writer(context.response_message);
  Encode(ReadRecordsResponse{.end_offset = records->end_offset, .extent_length = info->length, .sealed = info->sealed,
                             .durability = info->durability, .chain_version = info->chain_version},
         writer);
  if (!records->bytes.empty()) {
    context.response_payload.push_back({records->bytes.data(), records->bytes.size()});
    context.response_payload_owner = std::move(records->bytes);
  }
  co_return Status::Ok();
}

// Pulls the extent's records up to the requested length from the source: the re-replication
// primitive. Every record is verified twice: by the source as it reads, by us before writing.
Task<Status> Replicate(ExtentStore& store, rpc::RpcClient& peers, rpc::RpcContext& context) {
  auto request = DecodeReplicateRequest(context.request_message.span());
  if (!request.ok()) co_return request.status();
  auto source = NetAddress::Parse(request->source);
  if (!source.ok()) co_return source.status();
  while (true) {
    auto local = store.Info(request->extent_id);
    const uint64_t from = local.ok() ? local->length : kFirstRecordOffset;
    if (local.ok() && local->sealed) {
      if (local->length == request->length) co_return Status::Ok();
      co_return Status::FailedPrecondition(fmt::format("extent {:016x} is sealed here at {}, not {}",
                                                       request->extent_id, local->length, request->length));
    }
    if (local.ok() && from >= request->length) break;
    rpc::MessageBuffer message = rpc::EncodeMessage(ReadRecordsRequest{
        .extent_id = request->extent_id, .from_offset = from,
        .bytes_max = std::min(kCopyChunkBytes, request->length > from ? request->length - from : 0)});
    const Duration timeout = context.deadline == TimePoint::Max() ? kForwardTimeoutDefault
                                                                  : context.deadline - context.env->Now();
    auto fetched = co_await peers.Call(*source, kReadRecordsMethod, message.span(), {},
                                       {.timeout = timeout, .cancel = context.cancel});
    if (!fetched.ok()) co_return fetched.status();
    auto response = DecodeReadRecordsResponse(fetched->message.span());
    if (!response.ok()) co_return response.status();
    if (response->end_offset > request->length) {
      co_return Status::InvalidArgument(fmt::format("{} is not a record boundary of extent {:016x} on {}",
                                                    request->length, request->extent_id, request->source));
    }
    if (!local.ok()) {  // a new replica of the extent
      CO_RETURN_IF_ERROR(co_await store.Create(request->extent_id, response->durability, response->chain_version));
    }
    if (response->end_offset == from) {
      if (from >= request->length) break;  // a new, empty copy is all there was to make
      co_return Status::OutOfRange(fmt::format("{} holds extent {:016x} only up to {}", request->source,
                                               request->extent_id, response->extent_length));
    }
    CO_RETURN_IF_ERROR(co_await store.WriteRecords(request->extent_id, fetched->payload.span().first(fetched->payload_bytes)));
  }
  if (request->seal) CO_RETURN_IF_ERROR(co_await store.Seal(request->extent_id, request->length));
  co_return Status::Ok();
}

}  // namespace

void RegisterStorageService(rpc::ServiceRegistry& registry, ExtentStore& store, rpc::RpcClient& peers,
                            shm::ShmRegions& regions) {
  ExtentStore* s = &store;
  rpc::RpcClient* p = &peers;
  shm::ShmRegions* r = &regions;
  registry.Register(kCreateExtentMethod, "storage.create_extent", [s](rpc::RpcContext& c) { return CreateExtent(*s, c); });
  // The store checks an append's payload CRC while it computes the record's checksums.
  registry.Register(kAppendMethod, "storage.append", [s, p](rpc::RpcContext& c) { return Append(*s, *p, c); },
                    /*handler_checks_payload_crc=*/true);
  registry.Register(kReadMethod, "storage.read", [s](rpc::RpcContext& c) { return Read(*s, c); });
  registry.Register(kSealMethod, "storage.seal", [s](rpc::RpcContext& c) { return Seal(*s, c); });
  registry.Register(kExtentLengthMethod, "storage.extent_length", [s](rpc::RpcContext& c) { return ExtentLength(*s, c); });
  registry.Register(kFreezeExtentMethod, "storage.freeze_extent", [s](rpc::RpcContext& c) { return FreezeExtent(*s, c); });
  registry.Register(kDeleteExtentMethod, "storage.delete_extent", [s](rpc::RpcContext& c) { return DeleteExtent(*s, c); });
  registry.Register(kStorageStatsMethod, "storage.stats", [s](rpc::RpcContext& c) { return Stats(*s, c); });
  registry.Register(kReadRecordsMethod, "storage.read_records", [s](rpc::RpcContext& c) { return ReadRecords(*s, c); });
  registry.Register(kReplicateMethod, "storage.replicate", [s, p](rpc::RpcContext& c) { return Replicate(*s, *p, c); });
  registry.Register(kShmRegisterMethod, "storage.shm_register", [s, r](rpc::RpcContext& c) { return ShmRegister(*s, *r, c); });
  registry.Register(kShmUnregisterMethod, "storage.shm_unregister", [r](rpc::RpcContext& c) { return shm::HandleUnregister(*r, c); });
  registry.Register(kReadSharedMethod, "storage.read_shared", [s, r](rpc::RpcContext& c) { return ReadShared(*s, *r, c); });
  registry.Register(kAppendSharedMethod, "storage.append_shared",
                    [s, p, r](rpc::RpcContext& c) { return AppendShared(*s, *p, *r, c); });
}

}  // namespace cerulean::storage
