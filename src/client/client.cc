// The native client (include/cerulean/client.h). The public methods run on the caller's thread
// and hand the network work to the client's own shard (ClientCore, client_core.h); hashing for
// ETags happens on the caller's thread, beside the transfer.
#include "cerulean/client.h"

#include <fmt/format.h>

#include "client/client_core.h"
#include "client/core_on_shard.h"
#include "client/etag.h"

namespace cerulean {

using client::ClientCore;

class Client::Impl : public client::CoreOnShard<ClientCore, ClientOptions> {
 public:
  using CoreOnShard::CoreOnShard;
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() {
  if (impl_->core != nullptr) {
    impl_->shards.RunAndWait<int>(0, [this](Env&) -> Task<int> {
      co_await impl_->core->Close();
      impl_->core.reset();
      co_return 0;
    });
  }
  impl_->shards.Stop();
}

Result<std::unique_ptr<Client>> Client::Open(ClientOptions options) {
  if (options.piece_bytes == 0 || options.piece_bytes > client::kPieceBytesMax) {
    return Status::InvalidArgument(fmt::format("piece size {} outside 1..{}", options.piece_bytes, client::kPieceBytesMax));
  }
  if (options.parallel_pieces == 0) return Status::InvalidArgument("parallel_pieces must be at least 1");
  if (options.replicas > 3) return Status::InvalidArgument("replicas must be 0 (the cluster's default) to 3");
  auto impl = std::make_unique<Impl>(options);
  Impl* raw = impl.get();
  Status opened = raw->shards.RunAndWait<Status>(0, [raw](Env& env) -> Task<Status> {
    auto core = co_await ClientCore::Open(env, raw->options);
    if (!core.ok()) co_return core.status();
    raw->core = std::move(*core);
    co_return Status::Ok();
  });
  if (!opened.ok()) {
    raw->shards.Stop();
    return opened;
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

std::string Client::meta_address() const { return impl_->core->meta_address().ToString(); }

Status Client::CreateContainer(const std::string& name, const ContainerOptions& options) {
  return impl_->Run<Status>([&](ClientCore& core) { return core.CreateContainer(name, options); });
}

Status Client::DeleteContainer(const std::string& name) {
  return impl_->Run<Status>([&](ClientCore& core) { return core.DeleteContainer(name); });
}

Result<ContainerInfo> Client::GetContainer(const std::string& name) {
  return impl_->Run<Result<ContainerInfo>>([&](ClientCore& core) { return core.GetContainer(name); });
}

Result<std::vector<ContainerInfo>> Client::ListContainers(const std::string& prefix) {
  return impl_->Run<Result<std::vector<ContainerInfo>>>([&](ClientCore& core) { return core.ListContainers(prefix); });
}

Result<ObjectInfo> Client::Put(const std::string& container, const std::string& name, std::string_view data,
                               const PutOptions& options) {
  return Put(container, name, std::as_bytes(std::span<const char>(data.data(), data.size())), options);
}

Result<ObjectInfo> Client::Put(const std::string& container, const std::string& name,
                               std::span<const std::byte> data, const PutOptions& options) {
  const uint32_t piece_bytes = impl_->options.piece_bytes;
  const size_t pieces = (data.size() + piece_bytes - 1) / piece_bytes;
  std::optional<std::string> md5;
  Result<ObjectInfo> committed = Status::Unavailable("no attempt made");
  // Meta refuses a commit with Aborted when a piece landed past a seal decided meanwhile (a
  // replica failed during the put): the data is still here, so write it again, once.
  for (int attempt = 0; attempt < 2; attempt++) {
    // The pieces move on the client's shard while this thread hashes the content, if it must.
    auto upload = impl_->Start<Result<client::UploadResult>>(
        [&](ClientCore& core) { return core.Upload(container, name, data); });
    if (!md5 && (pieces <= 1 || options.md5_etag)) md5 = client::Md5Etag(data);
    Result<client::UploadResult> uploaded = upload.get();
    if (!uploaded.ok()) return uploaded.status();
    const std::string etag = md5 ? *md5 : client::CompositeEtag(uploaded->pieces);
    committed = impl_->Run<Result<ObjectInfo>>([&](ClientCore& core) {
      return core.Commit(container, name, std::move(*uploaded), etag, data.size(), options);
    });
    if (committed.status().code() != StatusCode::kAborted) break;
  }
  return committed;
}

Result<ObjectInfo> Client::PutStream(const std::string& container, const std::string& name, std::istream& in,
                                     const PutOptions& options, const std::function<void(uint64_t done)>& progress) {
  const uint32_t piece_bytes = impl_->options.piece_bytes;
  auto session = impl_->Run<Result<std::shared_ptr<client::PutSession>>>(
      [&](ClientCore& core) { return core.BeginPut(container, name); });
  if (!session.ok()) return session.status();
  Md5 md5;
  std::vector<std::vector<std::byte>> buffers;
  std::vector<std::future<Result<client::PieceResult>>> in_flight;
  std::vector<client::PieceResult> pieces;
  uint64_t size = 0;
  Status failed;
  // Reads piece after piece on this thread, keeping parallel_pieces appends in flight.
  while (failed.ok()) {
    std::vector<std::byte> buffer(piece_bytes);
    in.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
    const size_t got = static_cast<size_t>(in.gcount());
    if (in.bad()) {
      failed = Status::Unavailable(fmt::format("reading the input failed after {} bytes", size));
      break;
    }
    if (got == 0) break;
    buffer.resize(got);
    // The MD5 is the ETag only of a one-piece object (or when asked): past the first piece, stop.
    const bool first_piece = size == 0;
    size += got;
    if (first_piece || options.md5_etag) md5.Update(buffer);
    if (progress) progress(size);
    if (in_flight.size() == impl_->options.parallel_pieces) {
      auto done = in_flight.front().get();
      in_flight.erase(in_flight.begin());
      buffers.erase(buffers.begin());
      if (!done.ok()) failed = done.status();
      else pieces.push_back(*done);
    }
    buffers.push_back(std::move(buffer));
    std::span<const std::byte> piece(buffers.back());
    in_flight.push_back(impl_->Start<Result<client::PieceResult>>(
        [session = *session, piece](ClientCore& core) { return core.AppendPiece(session, piece); }));
    if (got < piece_bytes) break;
  }
  for (auto& future : in_flight) {
    auto done = future.get();
    if (!done.ok() && failed.ok()) failed = done.status();
    if (done.ok()) pieces.push_back(*done);
  }
  if (!failed.ok()) return failed;
  client::UploadResult uploaded;
  uploaded.session = *session;
  uploaded.pieces = std::move(pieces);
  const std::string etag = (uploaded.pieces.size() <= 1 || options.md5_etag) ? client::QuotedMd5(md5)
                                                                             : client::CompositeEtag(uploaded.pieces);
  return impl_->Run<Result<ObjectInfo>>([&](ClientCore& core) {
    return core.Commit(container, name, std::move(uploaded), etag, size, options);
  });
}

std::future<Result<ObjectInfo>> Client::PutAsync(std::string container, std::string name,
                                                 std::span<const std::byte> data, PutOptions options) {
  return std::async(std::launch::async, [this, container = std::move(container), name = std::move(name), data,
                                         options = std::move(options)] { return Put(container, name, data, options); });
}

Result<std::string> Client::Get(const std::string& container, const std::string& name,
                                const ReadConditions& conditions) {
  return impl_->Run<Result<std::string>>([&](ClientCore& core) { return core.GetWhole(container, name, conditions); });
}

Result<size_t> Client::GetRange(const std::string& container, const std::string& name, uint64_t offset,
                                std::span<std::byte> into, const ReadConditions& conditions) {
  return impl_->Run<Result<size_t>>(
      [&](ClientCore& core) { return core.GetRange(container, name, offset, into, conditions); });
}

Result<ObjectInfo> Client::GetToStream(const std::string& container, const std::string& name, std::ostream& out,
                                       const std::function<void(uint64_t done, uint64_t total)>& progress) {
  const ReadConditions none;  // named: the task reads it after this lambda has returned
  auto layout = impl_->Run<Result<client::Layout>>(
      [&](ClientCore& core) { return core.GetLayout(container, name, none); });
  if (!layout.ok()) return layout.status();
  const uint64_t size = layout->record.size;
  // Two windows: one read on the shard while this thread writes the other out.
  const uint64_t window = uint64_t{impl_->options.piece_bytes} * impl_->options.parallel_pieces;
  std::vector<std::byte> buffers[2] = {std::vector<std::byte>(std::min(window, size)),
                                       std::vector<std::byte>(std::min(window, size))};
  auto read = [&](uint64_t offset, int which) {
    std::span<std::byte> into(buffers[which].data(), std::min(window, size - offset));
    const client::Layout* fixed = &*layout;  // one layout for the whole object: never a mix
    return impl_->Start<Result<size_t>>([fixed, offset, into](ClientCore& core) { return core.ReadWithLayout(*fixed, offset, into); });
  };
  uint64_t offset = 0;
  int current = 0;
  std::optional<std::future<Result<size_t>>> pending;
  if (size > 0) pending = read(0, 0);
  while (pending) {
    Result<size_t> got = pending->get();
    pending.reset();
    if (!got.ok()) return got.status();
    const uint64_t next = offset + *got;
    if (next < size) pending = read(next, 1 - current);
    out.write(reinterpret_cast<const char*>(buffers[current].data()), static_cast<std::streamsize>(*got));
    if (!out) {
      if (pending) (void)pending->get();
      return Status::Unavailable(fmt::format("writing the output failed after {} bytes", offset));
    }
    offset = next;
    current = 1 - current;
    if (progress) progress(offset, size);
  }
  return client::ToObjectInfo(container, name, layout->record);
}

std::future<Result<size_t>> Client::GetRangeAsync(std::string container, std::string name, uint64_t offset,
                                                  std::span<std::byte> into) {
  // The lambda outlives the task it starts, so the task may refer to its captures.
  return impl_->Start<Result<size_t>>(
      [container = std::move(container), name = std::move(name), offset, into,
       none = ReadConditions()](ClientCore& core) { return core.GetRange(container, name, offset, into, none); });
}

std::vector<Result<size_t>> Client::BatchGet(std::vector<RangeRead> reads) {
  return impl_->Run<std::vector<Result<size_t>>>([&](ClientCore& core) { return core.BatchGet(reads); });
}

Status Client::SetContainerMetadata(const std::string& name, const UserMetadata& metadata) {
  return impl_->Run<Status>([&](ClientCore& core) { return core.SetContainerMetadata(name, metadata); });
}

Result<ObjectInfo> Client::SetProperties(const std::string& container, const std::string& name,
                                         const PropertiesUpdate& update, const ReadConditions& conditions) {
  return impl_->Run<Result<ObjectInfo>>(
      [&](ClientCore& core) { return core.SetProperties(container, name, update, conditions); });
}

Result<ObjectInfo> Client::Head(const std::string& container, const std::string& name,
                                const ReadConditions& conditions) {
  return impl_->Run<Result<ObjectInfo>>([&](ClientCore& core) { return core.Head(container, name, conditions); });
}

Status Client::Delete(const std::string& container, const std::string& name, const ReadConditions& conditions) {
  return impl_->Run<Status>([&](ClientCore& core) { return core.Delete(container, name, conditions); });
}

Result<ObjectPage> Client::ListPage(const std::string& container, const ListOptions& options) {
  return impl_->Run<Result<ObjectPage>>([&](ClientCore& core) { return core.ListPage(container, options); });
}

ObjectIterator Client::List(const std::string& container, ListOptions options) {
  return ObjectIterator(*this, container, std::move(options));
}

Result<std::string> Client::CreateUpload(const std::string& container, const std::string& name,
                                         const PutOptions& options) {
  return impl_->Run<Result<std::string>>([&](ClientCore& core) { return core.CreateUpload(container, name, options); });
}

Result<StagedBlockInfo> Client::StageBlock(const std::string& container, const std::string& name,
                                           const std::string& upload_id, const std::string& block_id,
                                           std::span<const std::byte> data, const StageOptions& options) {
  std::optional<std::string> etag;
  Status staged = Status::Unavailable("no attempt made");
  // As in Put: meta refuses a piece that landed past a seal decided meanwhile (an extent that
  // filled up or lost a replica while the append was in flight) with Aborted. The bytes are
  // still here, so write them again, once.
  for (int attempt = 0; attempt < 2; attempt++) {
    // The block's pieces move on the shard while this thread computes its MD5, if it must.
    auto upload = impl_->Start<Result<client::UploadResult>>(
        [&](ClientCore& core) { return core.Upload(container, name, data); });
    if (!etag && options.md5_etag) etag = client::Md5Etag(data);
    Result<client::UploadResult> uploaded = upload.get();
    if (!uploaded.ok()) return uploaded.status();
    if (!options.md5_etag) etag = client::CompositeEtag(uploaded->pieces);
    staged = impl_->Run<Status>([&](ClientCore& core) {
      return core.StageBlock(container, name, upload_id, block_id, std::move(*uploaded), *etag, data.size());
    });
    if (staged.code() != StatusCode::kAborted) break;
  }
  if (!staged.ok()) return staged;
  return StagedBlockInfo{block_id, data.size(), *etag};
}

Result<ObjectInfo> Client::CommitBlocks(const std::string& container, const std::string& name,
                                        const std::string& upload_id, const std::vector<BlockToCommit>& blocks,
                                        const PutOptions& options) {
  return impl_->Run<Result<ObjectInfo>>(
      [&](ClientCore& core) { return core.CommitBlocks(container, name, upload_id, blocks, options); });
}

Result<BlockList> Client::ListBlocks(const std::string& container, const std::string& name,
                                     const std::string& upload_id) {
  return impl_->Run<Result<BlockList>>([&](ClientCore& core) { return core.ListBlocks(container, name, upload_id); });
}

Status Client::AbortUpload(const std::string& container, const std::string& name, const std::string& upload_id) {
  return impl_->Run<Status>([&](ClientCore& core) { return core.AbortUpload(container, name, upload_id); });
}

Result<std::vector<UploadInfo>> Client::ListUploads(const std::string& container, const std::string& prefix) {
  return impl_->Run<Result<std::vector<UploadInfo>>>([&](ClientCore& core) { return core.ListUploads(container, prefix); });
}

Result<std::optional<ObjectInfo>> ObjectIterator::Next() {
  while (index_ >= page_.objects.size()) {
    if (fetched_ && !page_.truncated) return std::optional<ObjectInfo>();
    if (fetched_) options_.start_after = page_.next_start_after;
    ASSIGN_OR_RETURN(page_, client_->ListPage(container_, options_));
    fetched_ = true;
    index_ = 0;
  }
  return std::optional<ObjectInfo>(page_.objects[index_++]);
}

}  // namespace cerulean
