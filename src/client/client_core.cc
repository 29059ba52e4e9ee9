#include "client/client_core.h"

#include <fmt/format.h>

#include <functional>

#include "base/crc32c.h"
#include "base/logging.h"
#include "storage/chain_client.h"
#include "runtime/sleep.h"
#include "runtime/when_all.h"

namespace cerulean::client {
namespace {

constexpr size_t kLayoutCacheEntriesMax = 100'000;
// Reads a batch get runs at once, at least.
constexpr size_t kBatchParallelMin = 16;
// Moves of one piece on from an extent that was full or sealed. The extents of a pool may close
// at once, so a piece can meet a few; only a misconfiguration (extents smaller than a piece)
// meets this many.
constexpr uint32_t kClosedExtentRetriesMax = 16;

UserMetadata FromMeta(const meta::UserMetadata& metadata) { return UserMetadata(metadata.begin(), metadata.end()); }

ContainerInfo ToContainerInfo(std::string name, const meta::ContainerRecord& record) {
  ContainerInfo info;
  info.name = std::move(name);
  info.created_unix_ns = record.created_unix_ns;
  info.public_read = record.public_read;
  info.public_list = record.public_list;
  info.metadata = FromMeta(record.metadata);
  return info;
}

meta::ObjectRequest ObjectRequestOf(const std::string& container, const std::string& name,
                                    const ReadConditions& conditions) {
  meta::ObjectRequest request;
  request.container = container;
  request.name = name;
  request.if_match = conditions.if_match;
  request.if_none_match = conditions.if_none_match;
  return request;
}

Result<storage::Chain> ChainOf(const meta::ExtentLocation& location) {
  storage::Chain chain;
  chain.version = location.chain_version;
  for (const std::string& address : location.addresses) {
    ASSIGN_OR_RETURN(NetAddress parsed, NetAddress::Parse(address));
    chain.replicas.push_back(std::move(parsed));
  }
  if (chain.replicas.empty()) return Status::Unavailable(fmt::format("extent {:016x} has no reachable replica", location.extent_id));
  return chain;
}

// Runs body(0) .. body(count - 1), at most `parallel` at once; the first error stops new ones
// and is returned.
Task<Status> ForEachParallel(size_t count, size_t parallel, std::function<Task<Status>(size_t)> body) {
  size_t next = 0;
  Status first_error;
  auto worker = [&]() -> Task<Status> {
    while (next < count && first_error.ok()) {
      const size_t index = next++;
      Status status = co_await body(index);
      if (!status.ok() && first_error.ok()) first_error = status;
    }
    co_return Status::Ok();
  };
  std::vector<Task<Status>> workers;
  for (size_t i = 0; i < std::min(count, parallel); i++) workers.push_back(worker());
  co_await WhenAll(std::move(workers));
  co_return first_error;
}

// Whether a meta method can change what a listing returns.
bool ChangesListings(uint32_t method) {
  return method == meta::kCommitPutMethod || method == meta::kDeleteObjectMethod ||
         method == meta::kSetObjectPropertiesMethod || method == meta::kCommitBlocksMethod ||
         method == meta::kCreateContainerMethod || method == meta::kDeleteContainerMethod;
}

// Worth retrying elsewhere: the chain or the replica, not the request, was at fault.
bool Retryable(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kPermissionDenied:
    case StatusCode::kCancelled:
      return false;
    default:
      return true;
  }
}

// An append refused because its extent takes no more (full: Aborted; sealed or on another
// chain version: FailedPrecondition), not because anything failed.
bool ExtentClosed(const Status& status) {
  return status.code() == StatusCode::kAborted || status.code() == StatusCode::kFailedPrecondition;
}

}  // namespace

namespace {

// Moves the record's strings when given an rvalue (a listing's records), copies them otherwise.
template <typename Record>
ObjectInfo MakeObjectInfo(std::string container, std::string name, Record&& record) {
  ObjectInfo info;
  info.container = std::move(container);
  info.name = std::move(name);
  info.size = record.size;
  info.etag = std::forward<Record>(record).etag;
  info.content_type = std::forward<Record>(record).content_type;
  info.headers = std::forward<Record>(record).headers;
  info.metadata = std::forward<Record>(record).metadata;  // the same type on both sides
  info.created_unix_ns = record.created_unix_ns;
  info.modified_unix_ns = record.modified_unix_ns;
  info.crc32c = record.crc32c;
  info.pieces = static_cast<uint32_t>(record.pieces.size());
  return info;
}

}  // namespace

ObjectInfo ToObjectInfo(const std::string& container, const std::string& name, const meta::ObjectRecord& record) {
  return MakeObjectInfo(container, name, record);
}

ObjectInfo ToObjectInfo(const std::string& container, const std::string& name, meta::ObjectRecord&& record) {
  return MakeObjectInfo(container, name, std::move(record));
}

ClientCore::ClientCore(Env& env, const ClientOptions& options)
    : env_(env), options_(options), rpc_(env, {.connections_per_peer = 2}), background_(env) {
  if (options.shared_memory) {
    shared_memory_ = std::make_unique<SharedMemoryPath>(env, rpc_, options.piece_bytes,
                                                  std::max<size_t>(options.parallel_pieces, kBatchParallelMin));
  }
}

Task<Result<std::unique_ptr<ClientCore>>> ClientCore::Open(Env& env, const ClientOptions& options) {
  std::unique_ptr<ClientCore> core(new ClientCore(env, options));
  if (!options.embedded_directory.empty()) {
    server::ServerNodeOptions embedded;
    embedded.listen = NetAddress("127.0.0.1", 0);
    embedded.data_directory = options.embedded_directory;
    auto started = co_await server::ServerNode::Start(env, embedded);
    if (!started.ok()) co_return started.status();
    core->embedded_ = std::move(*started);
    core->meta_ = core->embedded_->address();
  } else {
    CO_ASSIGN_OR_RETURN(core->meta_, NetAddress::Parse(options.meta_address));
  }
  core->meta_channel_.emplace(core->rpc_.Channel(core->meta_));
  co_return std::move(core);
}

Task<void> ClientCore::Close() {
  co_await background_.Join();
  if (shared_memory_ != nullptr) co_await shared_memory_->Close();
  co_await rpc_.Close();
  if (embedded_ != nullptr) co_await embedded_->Stop();
}

Task<Result<rpc::CallResult>> ClientCore::CallMeta(uint32_t method, rpc::MessageBuffer message) {
  Result<rpc::CallResult> answer = co_await meta_channel_->Call(method, message.span(), {}, {.timeout = options_.timeout});
  // Counted once the write is done (or failed): a page read ahead before then may lack it.
  if (ChangesListings(method)) mutations_++;
  co_return answer;
}

Task<Status> ClientCore::CreateContainer(const std::string& name, const ContainerOptions& options) {
  meta::ContainerRequest request;
  request.name = name;
  request.record.public_read = options.public_read;
  request.record.public_list = options.public_list;
  request.record.metadata.assign(options.metadata.begin(), options.metadata.end());
  co_return (co_await CallMeta(meta::kCreateContainerMethod, rpc::EncodeMessage(request))).status();
}

Task<Status> ClientCore::DeleteContainer(const std::string& name) {
  meta::ContainerRequest request;
  request.name = name;
  co_return (co_await CallMeta(meta::kDeleteContainerMethod, rpc::EncodeMessage(request))).status();
}

Task<Result<ContainerInfo>> ClientCore::GetContainer(const std::string& name) {
  meta::ContainerRequest request;
  request.name = name;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kGetContainerMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::ContainerResponse response, meta::DecodeContainerResponse(answer.message.span()));
  co_return ToContainerInfo(name, response.record);
}

Task<Status> ClientCore::SetContainerMetadata(const std::string& name, const UserMetadata& metadata) {
  meta::ContainerRequest request;
  request.name = name;
  request.record.metadata.assign(metadata.begin(), metadata.end());
  co_return (co_await CallMeta(meta::kSetContainerMetadataMethod, rpc::EncodeMessage(request))).status();
}

Task<Result<std::vector<ContainerInfo>>> ClientCore::ListContainers(const std::string& prefix) {
  std::vector<ContainerInfo> containers;
  meta::ListContainersRequest request;
  request.prefix = prefix;
  request.max_results = 1000;
  while (true) {
    CO_ASSIGN_OR_RETURN(rpc::CallResult answer,
                        co_await CallMeta(meta::kListContainersMethod, rpc::EncodeMessage(request)));
    CO_ASSIGN_OR_RETURN(meta::ListContainersResponse page, meta::DecodeListContainersResponse(answer.message.span()));
    for (auto& [name, record] : page.containers) containers.push_back(ToContainerInfo(name, record));
    if (!page.truncated) break;
    request.start_after = page.next_start_after;
  }
  co_return containers;
}

Task<Result<std::shared_ptr<PutSession>>> ClientCore::BeginPut(const std::string& container, const std::string& name) {
  meta::BeginPutRequest request;
  request.container = container;
  request.name = name;
  request.replicas = options_.replicas;
  request.extents = options_.parallel_pieces;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kBeginPutMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::BeginPutResponse response, meta::DecodeBeginPutResponse(answer.message.span()));
  if (response.extents.empty()) co_return Status::Internal("meta handed out no extent");
  auto session = std::make_shared<PutSession>();
  session->container = container;
  session->name = name;
  session->extents = std::move(response.extents);
  session->owner = storage::OwnerId{.high = env_.Random(), .low = env_.Random()};
  co_return session;
}

Task<Result<meta::ExtentLocation>> ClientCore::FreshExtent(PutSession& session) {
  meta::BeginPutRequest request;
  request.container = session.container;
  request.name = session.name;
  request.replicas = options_.replicas;
  request.extents = 1;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kBeginPutMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::BeginPutResponse response, meta::DecodeBeginPutResponse(answer.message.span()));
  if (response.extents.empty()) co_return Status::Internal("meta handed out no extent");
  co_return std::move(response.extents[0]);
}

Task<Result<PieceResult>> ClientCore::AppendPiece(std::shared_ptr<PutSession> session, std::span<const std::byte> data,
                                                  std::optional<uint32_t> data_crc) {
  // The caller's, or computed by the first attempt: while copying the piece into shared memory,
  // or on its own.
  std::optional<uint32_t> computed_crc = data_crc;
  const iovec payload{const_cast<std::byte*>(data.data()), data.size()};
  Status last = Status::Unavailable("no attempt made");
  uint32_t faults = 0;  // appends that failed for a fault (a replica down, a disk error)
  uint32_t closed = 0;  // appends refused by an extent that takes no more (full, sealed)
  while (faults < options_.append_attempts && closed < kClosedExtentRetriesMax) {
    const meta::ExtentLocation extent = session->extents[session->next++ % session->extents.size()];
    auto chain = ChainOf(extent);
    if (!chain.ok()) co_return chain.status();
    std::optional<Result<storage::AppendResponse>> shared;
    if (shared_memory_ != nullptr) {
      shared = co_await shared_memory_->Append(*chain, extent.extent_id, data, session->owner, computed_crc,
                                               options_.timeout);
    }
    Result<storage::AppendResponse> appended = Status::Unknown("not appended");
    if (shared) {
      appended = std::move(*shared);
    } else {
      if (!computed_crc) computed_crc = Crc32c(data);
      appended = co_await storage::AppendToChain(rpc_, *chain, extent.extent_id, std::span<const iovec>(&payload, 1),
                                                 session->owner, options_.timeout, *computed_crc);
    }
    const uint32_t crc = computed_crc.value_or(0);  // set by either path once the bytes were sent
    if (appended.ok() && appended->payload_crc != crc) {
      // The head stored other bytes than these (changed on the way): never reference them.
      appended = Status::DataLoss(fmt::format("extent {:016x} stored a piece whose CRC {:08x} is not the sent {:08x}",
                                              extent.extent_id, appended->payload_crc, crc));
    }
    if (appended.ok()) {
      PieceResult result;
      result.piece = meta::Piece{.extent_id = extent.extent_id, .record_offset = appended->record_offset,
                                 .length = static_cast<uint32_t>(data.size()), .crc32c = crc};
      co_return result;
    }
    last = appended.status();
    if (!Retryable(last)) co_return last;
    // Every extent of a pool may fill at once under one large put, so a fresh extent can be
    // full too: a refusal moves the piece on without counting as a fault.
    if (ExtentClosed(last)) {
      closed++;
      LOG_DEBUG("client: extent {:016x} takes no more ({}); moving the piece to a fresh extent", extent.extent_id,
                last.ToString());
    } else {
      faults++;
      LOG_INFO("client: append to extent {:016x} failed ({}); retrying on a fresh extent", extent.extent_id,
               last.ToString());
    }
    // Meta seals the extent and stops handing it out; this put moves to another.
    meta::ExtentFailureRequest failure;
    failure.extent_id = extent.extent_id;
    failure.reason = last.ToString();
    (void)co_await CallMeta(meta::kReportExtentFailureMethod, rpc::EncodeMessage(failure));
    auto fresh = co_await FreshExtent(*session);
    if (!fresh.ok()) co_return fresh.status();
    for (meta::ExtentLocation& location : session->extents) {
      if (location.extent_id == extent.extent_id) location = *fresh;
    }
  }
  co_return Status::Unavailable(fmt::format("a piece failed {} appends; the last: {}", faults + closed, last.ToString()));
}

Task<Result<UploadResult>> ClientCore::Upload(const std::string& container, const std::string& name,
                                              std::span<const std::byte> data) {
  UploadResult upload;
  if (data.empty()) co_return upload;  // no pieces, no extents: the commit alone makes the object
  CO_ASSIGN_OR_RETURN(std::shared_ptr<PutSession> session, co_await BeginPut(container, name));
  const uint64_t piece_bytes = options_.piece_bytes;
  const size_t count = (data.size() + piece_bytes - 1) / piece_bytes;
  upload.session = session;
  upload.pieces.resize(count);
  Status status = co_await ForEachParallel(count, options_.parallel_pieces, [&](size_t index) -> Task<Status> {
    const std::span<const std::byte> piece = data.subspan(index * piece_bytes, std::min<uint64_t>(piece_bytes, data.size() - index * piece_bytes));
    auto appended = co_await AppendPiece(session, piece);
    if (!appended.ok()) co_return appended.status();
    upload.pieces[index] = *appended;
    co_return Status::Ok();
  });
  if (!status.ok()) co_return status;
  co_return upload;
}

Task<Result<ObjectInfo>> ClientCore::Commit(const std::string& container, const std::string& name, UploadResult upload,
                                            std::string etag, uint64_t size, const PutOptions& options) {
  meta::CommitPutRequest request;
  request.container = container;
  request.name = name;
  request.record.size = size;
  request.record.etag = std::move(etag);
  request.record.content_type = options.content_type;
  request.record.headers = options.headers;
  request.record.metadata.assign(options.metadata.begin(), options.metadata.end());
  uint32_t crc = 0;
  for (const PieceResult& piece : upload.pieces) {
    crc = Crc32cCombine(crc, piece.piece.crc32c, piece.piece.length);
    request.record.pieces.push_back(piece.piece);
  }
  request.record.crc32c = crc;
  request.if_match = options.if_match;
  request.if_none_match = options.if_none_match;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kCommitPutMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::ObjectResponse response, meta::DecodeObjectResponse(answer.message.span()));
  layouts_.erase(container + '\0' + name);
  co_return ToObjectInfo(container, name, std::move(response.record));
}

Task<Result<Layout>> ClientCore::GetLayout(const std::string& container, const std::string& name,
                                           const ReadConditions& conditions) {
  const std::string key = container + '\0' + name;
  const bool cacheable = options_.layout_cache_ttl.count() > 0 && !conditions.if_match && !conditions.if_none_match;
  if (cacheable) {
    auto cached = layouts_.find(key);
    if (cached != layouts_.end() && env_.Now() < cached->second.first + options_.layout_cache_ttl) {
      co_return cached->second.second;
    }
  }
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer,
                      co_await CallMeta(meta::kGetLayoutMethod, rpc::EncodeMessage(ObjectRequestOf(container, name, conditions))));
  CO_ASSIGN_OR_RETURN(meta::LayoutResponse response, meta::DecodeLayoutResponse(answer.message.span()));
  Layout layout;
  layout.record = std::move(response.record);
  for (meta::ExtentLocation& location : response.extents) layout.extents[location.extent_id] = std::move(location);
  if (cacheable) {
    if (layouts_.size() >= kLayoutCacheEntriesMax) layouts_.clear();  // crude, but bounded
    layouts_[key] = {env_.Now(), layout};
  }
  co_return layout;
}

Task<Status> ClientCore::RefreshLocation(uint64_t extent_id, meta::ExtentLocation& location) {
  meta::LocateExtentsRequest request;
  request.extent_ids = {extent_id};
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kLocateExtentsMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::LocateExtentsResponse response, meta::DecodeLocateExtentsResponse(answer.message.span()));
  if (response.extents.size() != 1) co_return Status::Internal("meta located another number of extents than asked");
  location = std::move(response.extents[0]);
  co_return Status::Ok();
}

Task<Status> ClientCore::ReadPiece(const Layout& layout, const meta::Piece& piece, uint64_t offset_in_piece,
                                   std::span<std::byte> into) {
  auto known = layout.extents.find(piece.extent_id);
  if (known == layout.extents.end()) co_return Status::Internal(fmt::format("layout lacks extent {:016x}", piece.extent_id));
  // The layout's locations, read in place; a copy only if meta is asked again after failures.
  const meta::ExtentLocation* location = &known->second;
  meta::ExtentLocation refreshed;
  const storage::ReadRange range{.extent_id = piece.extent_id, .record_offset = piece.record_offset,
                                 .offset_in_payload = offset_in_piece, .length = into.size()};
  const bool whole = offset_in_piece == 0 && into.size() == piece.length;
  Status last = Status::Unavailable(fmt::format("extent {:016x} has no replica to read from", piece.extent_id));
  bool every_replica_lost_it = true;
  // Every replica of the layout; then, if all failed, once more with the chain meta knows now.
  for (int round = 0; round < 2; round++) {
    const size_t replicas = location->addresses.size();
    // Each piece from a replica of its own, the same every time: reads spread over the chain,
    // and a hot piece is found in the one node's read cache that has it.
    const size_t first = static_cast<size_t>(((piece.extent_id ^ (piece.record_offset >> 12)) * 0x9E3779B97F4A7C15ull) >> 32) + static_cast<size_t>(round);
    for (size_t i = 0; i < replicas; i++) {
      auto address = NetAddress::Parse(location->addresses[(first + i) % replicas]);
      if (!address.ok()) continue;
      // The frame's CRC was checked against the bytes on arrival; for a whole piece it must
      // also be the CRC the writer computed, end to end, with no second pass here.
      uint32_t received_crc = 0;
      std::optional<Status> shared;
      if (shared_memory_ != nullptr) shared = co_await shared_memory_->Read(*address, range, into, options_.timeout, &received_crc);
      Status read;
      if (shared) {
        read = std::move(*shared);
      } else {
        read = co_await storage::ReadFromReplica(rpc_, *address, range, into, options_.timeout, &received_crc);
      }
      if (read.ok() && whole && received_crc != piece.crc32c) {
        read = Status::DataLoss(fmt::format("piece at {} of extent {:016x} from {} fails its CRC", piece.record_offset,
                                            piece.extent_id, address->ToString()));
      }
      if (read.ok()) co_return Status::Ok();
      LOG_INFO("client: read of extent {:016x} from {} failed: {}", piece.extent_id, address->ToString(), read.ToString());
      if (read.code() != StatusCode::kDataLoss) every_replica_lost_it = false;
      last = read;
    }
    if (round == 0 && !(co_await RefreshLocation(piece.extent_id, refreshed)).ok()) break;
    location = &refreshed;
  }
  if (every_replica_lost_it && last.code() == StatusCode::kDataLoss) co_return last;
  co_return Status(last.code() == StatusCode::kDataLoss ? StatusCode::kUnavailable : last.code(),
                   fmt::format("extent {:016x}: no replica answered: {}", piece.extent_id, last.message()));
}

Task<Result<size_t>> ClientCore::ReadWithLayout(const Layout& layout, uint64_t offset, std::span<std::byte> into) {
  const uint64_t size = layout.record.size;
  if (offset > size) co_return Status::OutOfRange(fmt::format("offset {} is past the object's {} bytes", offset, size));
  const uint64_t length = std::min<uint64_t>(into.size(), size - offset);
  struct Part {
    const meta::Piece* piece;
    uint64_t offset_in_piece;
    std::span<std::byte> into;
  };
  std::vector<Part> parts;
  uint64_t piece_start = 0;
  for (const meta::Piece& piece : layout.record.pieces) {
    const uint64_t piece_end = piece_start + piece.length;
    const uint64_t from = std::max(offset, piece_start);
    const uint64_t to = std::min(offset + length, piece_end);
    if (from < to) parts.push_back({&piece, from - piece_start, into.subspan(from - offset, to - from)});
    piece_start = piece_end;
    if (piece_start >= offset + length) break;
  }
  Status status = co_await ForEachParallel(parts.size(), options_.parallel_pieces, [&](size_t index) -> Task<Status> {
    co_return co_await ReadPiece(layout, *parts[index].piece, parts[index].offset_in_piece, parts[index].into);
  });
  if (!status.ok()) co_return status;
  co_return static_cast<size_t>(length);
}

Task<Result<size_t>> ClientCore::GetRange(const std::string& container, const std::string& name, uint64_t offset,
                                          std::span<std::byte> into, const ReadConditions& conditions) {
  CO_ASSIGN_OR_RETURN(Layout layout, co_await GetLayout(container, name, conditions));
  co_return co_await ReadWithLayout(layout, offset, into);
}

Task<Result<std::string>> ClientCore::GetWhole(const std::string& container, const std::string& name,
                                               const ReadConditions& conditions) {
  CO_ASSIGN_OR_RETURN(Layout layout, co_await GetLayout(container, name, conditions));
  std::string data(layout.record.size, '\0');
  CO_ASSIGN_OR_RETURN(size_t read, co_await ReadWithLayout(layout, 0, std::as_writable_bytes(std::span(data))));
  if (read != data.size()) co_return Status::Internal("short read of a whole object");
  co_return data;
}

Task<std::vector<Result<size_t>>> ClientCore::BatchGet(const std::vector<RangeRead>& reads) {
  std::vector<Result<size_t>> results(reads.size(), Result<size_t>(Status::Internal("not read")));
  const ReadConditions none;
  (void)co_await ForEachParallel(reads.size(), std::max<size_t>(options_.parallel_pieces, kBatchParallelMin),
                                 [&](size_t index) -> Task<Status> {
                                   const RangeRead& read = reads[index];
                                   results[index] = co_await GetRange(read.container, read.name, read.offset,
                                                                      read.into.first(std::min<size_t>(read.into.size(), read.length)), none);
                                   co_return Status::Ok();
                                 });
  co_return results;
}

Task<Result<ObjectInfo>> ClientCore::Head(const std::string& container, const std::string& name,
                                          const ReadConditions& conditions) {
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer,
                      co_await CallMeta(meta::kHeadObjectMethod, rpc::EncodeMessage(ObjectRequestOf(container, name, conditions))));
  CO_ASSIGN_OR_RETURN(meta::ObjectResponse response, meta::DecodeObjectResponse(answer.message.span()));
  co_return ToObjectInfo(container, name, std::move(response.record));
}

Task<Status> ClientCore::Delete(const std::string& container, const std::string& name, const ReadConditions& conditions) {
  layouts_.erase(container + '\0' + name);
  co_return (co_await CallMeta(meta::kDeleteObjectMethod, rpc::EncodeMessage(ObjectRequestOf(container, name, conditions)))).status();
}

Task<Result<ObjectInfo>> ClientCore::SetProperties(const std::string& container, const std::string& name,
                                                   const PropertiesUpdate& update, const ReadConditions& conditions) {
  meta::SetObjectPropertiesRequest request;
  request.object = ObjectRequestOf(container, name, conditions);
  request.set_content = update.content_type.has_value();
  request.content_type = update.content_type.value_or("");
  request.headers = update.headers;
  request.set_metadata = update.metadata.has_value();
  if (update.metadata) request.metadata.assign(update.metadata->begin(), update.metadata->end());
  layouts_.erase(container + '\0' + name);
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer,
                      co_await CallMeta(meta::kSetObjectPropertiesMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::ObjectResponse response, meta::DecodeObjectResponse(answer.message.span()));
  co_return ToObjectInfo(container, name, std::move(response.record));
}

Task<void> ClientCore::ReadAhead(std::shared_ptr<ListReadAhead> ahead) {
  ahead->answer = co_await CallMeta(meta::kListObjectsMethod, rpc::EncodeMessage(ahead->request));
  ahead->arrived.Set();
}

Task<Result<rpc::CallResult>> ClientCore::ListCall(const meta::ListObjectsRequest& request) {
  std::shared_ptr<ListReadAhead> ahead = std::move(list_read_ahead_);  // used once at most
  if (ahead != nullptr && ahead->mutations == mutations_ && ahead->request == request) {
    (void)co_await ahead->arrived.Wait();
    // A page read ahead before one of this client's own writes must not hide it.
    if (ahead->mutations == mutations_) co_return std::move(ahead->answer);
  }
  co_return co_await CallMeta(meta::kListObjectsMethod, rpc::EncodeMessage(request));
}

Task<Result<ObjectPage>> ClientCore::ListPage(const std::string& container, const ListOptions& options) {
  meta::ListObjectsRequest request;
  request.container = container;
  request.prefix = options.prefix;
  request.delimiter = options.delimiter;
  request.start_after = options.start_after;
  request.max_results = options.page_size;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await ListCall(request));
  // The next page is asked for before this one is decoded.
  CO_ASSIGN_OR_RETURN(meta::ListContinuation more, meta::PeekListContinuation(answer.message.span()));
  if (more.truncated) {
    auto ahead = std::make_shared<ListReadAhead>(env_);
    ahead->request = request;
    ahead->request.start_after = std::move(more.next_start_after);
    ahead->mutations = mutations_;
    list_read_ahead_ = ahead;
    background_.Spawn(ReadAhead(std::move(ahead)));
    // Let its request reach the socket before this page is decoded: the call queues its frame
    // (one pass of the loop), the connection's writer prepares the write (another), and the
    // loop submits it before the third. Meta then finds the next page while we decode.
    for (int pass = 0; pass < 3; pass++) co_await Yield(env_);
  }
  CO_ASSIGN_OR_RETURN(meta::ListObjectsResponse response, meta::DecodeListObjectsResponse(answer.message.span()));
  ObjectPage page;
  page.objects.reserve(response.objects.size());
  for (auto& [name, record] : response.objects) {
    page.objects.push_back(MakeObjectInfo(container, std::move(name), std::move(record)));
  }
  page.common_prefixes = std::move(response.common_prefixes);
  page.truncated = response.truncated;
  page.next_start_after = std::move(response.next_start_after);
  co_return page;
}

Task<Result<std::string>> ClientCore::CreateUpload(const std::string& container, const std::string& name,
                                                  const PutOptions& options) {
  meta::CreateUploadRequest request;
  request.container = container;
  request.name = name;
  request.content_type = options.content_type;
  request.headers = options.headers;
  request.metadata.assign(options.metadata.begin(), options.metadata.end());
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kCreateUploadMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::CreateUploadResponse response, meta::DecodeCreateUploadResponse(answer.message.span()));
  co_return std::move(response.upload_id);
}

Task<Status> ClientCore::StageBlock(const std::string& container, const std::string& name, const std::string& upload_id,
                                    const std::string& block_id, UploadResult upload, std::string etag, uint64_t size) {
  meta::StageBlockRequest request;
  request.upload.container = container;
  request.upload.name = name;
  request.upload.upload_id = upload_id;
  request.block_id = block_id;
  request.record.size = size;
  request.record.etag = std::move(etag);
  for (const PieceResult& piece : upload.pieces) request.record.pieces.push_back(piece.piece);
  co_return (co_await CallMeta(meta::kStageBlockMethod, rpc::EncodeMessage(request))).status();
}

Task<Result<ObjectInfo>> ClientCore::CommitBlocks(const std::string& container, const std::string& name,
                                                  const std::string& upload_id, const std::vector<BlockToCommit>& blocks,
                                                  const PutOptions& options) {
  meta::CommitBlocksRequest request;
  request.upload.container = container;
  request.upload.name = name;
  request.upload.upload_id = upload_id;
  for (const BlockToCommit& block : blocks) request.blocks.emplace_back(block.id, static_cast<uint8_t>(block.source));
  request.content_type = options.content_type;
  request.headers = options.headers;
  request.metadata.assign(options.metadata.begin(), options.metadata.end());
  request.if_match = options.if_match;
  request.if_none_match = options.if_none_match;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kCommitBlocksMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::ObjectResponse response, meta::DecodeObjectResponse(answer.message.span()));
  layouts_.erase(container + '\0' + name);
  co_return ToObjectInfo(container, name, std::move(response.record));
}

Task<Result<BlockList>> ClientCore::ListBlocks(const std::string& container, const std::string& name,
                                               const std::string& upload_id) {
  meta::UploadRequest request;
  request.container = container;
  request.name = name;
  request.upload_id = upload_id;
  CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kListBlocksMethod, rpc::EncodeMessage(request)));
  CO_ASSIGN_OR_RETURN(meta::ListBlocksResponse response, meta::DecodeListBlocksResponse(answer.message.span()));
  BlockList list;
  for (auto& [id, record] : response.uncommitted) list.uncommitted.push_back({id, record.size, record.etag});
  for (auto& [id, size] : response.committed) list.committed.push_back({id, size, ""});
  co_return list;
}

Task<Status> ClientCore::AbortUpload(const std::string& container, const std::string& name, const std::string& upload_id) {
  meta::UploadRequest request;
  request.container = container;
  request.name = name;
  request.upload_id = upload_id;
  co_return (co_await CallMeta(meta::kAbortUploadMethod, rpc::EncodeMessage(request))).status();
}

Task<Result<std::vector<UploadInfo>>> ClientCore::ListUploads(const std::string& container, const std::string& prefix) {
  meta::ListUploadsRequest request;
  request.container = container;
  request.prefix = prefix;
  std::vector<UploadInfo> uploads;
  while (true) {
    CO_ASSIGN_OR_RETURN(rpc::CallResult answer, co_await CallMeta(meta::kListUploadsMethod, rpc::EncodeMessage(request)));
    CO_ASSIGN_OR_RETURN(meta::ListUploadsResponse page, meta::DecodeListUploadsResponse(answer.message.span()));
    for (auto& [key, record] : page.uploads) uploads.push_back({key.first, key.second, record.created_unix_ns});
    if (!page.truncated || page.uploads.empty()) break;
    request.start_name = page.uploads.back().first.first;
    request.start_upload_id = page.uploads.back().first.second;
  }
  co_return uploads;
}

}  // namespace cerulean::client
