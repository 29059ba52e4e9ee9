// ClientCore: the native client's protocol, on the client's shard (client.cc hands calls to it).
// A put asks meta for open extents, appends the pieces straight to their chains (several at a
// time, a failed append retried on a fresh extent after telling meta), then commits the piece
// list. A get asks meta for the layout and reads the pieces straight from any replica, each
// checked against its CRC. docs/CLIENT.md. Single loop.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cerulean/client.h"
#include "client/shared_memory_path.h"
#include "meta/meta_messages.h"
#include "rpc/rpc_client.h"
#include "runtime/event.h"
#include "runtime/task_group.h"
#include "server/server_node.h"
#include "storage/extent_format.h"

namespace cerulean::client {

inline constexpr uint32_t kPieceBytesMax = storage::kRecordPayloadBytesMax;

// One put's extents and owner id. Shard only.
struct PutSession {
  std::string container;
  std::string name;
  std::vector<meta::ExtentLocation> extents;
  size_t next = 0;  // round-robin over `extents`
  storage::OwnerId owner;
};

struct PieceResult {
  meta::Piece piece;
};

struct UploadResult {
  std::shared_ptr<PutSession> session;  // none for empty data
  std::vector<PieceResult> pieces;  // in object order
};

// An object's record and where its extents are: one snapshot, so that every byte of one read
// comes from the same version of the object.
struct Layout {
  meta::ObjectRecord record;
  std::map<uint64_t, meta::ExtentLocation> extents;
};

ObjectInfo ToObjectInfo(const std::string& container, const std::string& name, const meta::ObjectRecord& record);
ObjectInfo ToObjectInfo(const std::string& container, const std::string& name, meta::ObjectRecord&& record);

// The page after the one a listing last returned, asked for as soon as that one arrived, so that
// meta finds it while the client decodes and the caller reads the earlier one.
struct ListReadAhead {
  explicit ListReadAhead(Env& env) : arrived(env) {}
  meta::ListObjectsRequest request;  // what it answers
  uint64_t mutations = 0;            // the client's writes when it was asked for
  Result<rpc::CallResult> answer = Status::Unknown("not arrived");
  Event arrived;
};

class ClientCore {
 public:
  static Task<Result<std::unique_ptr<ClientCore>>> Open(Env& env, const ClientOptions& options);
  Task<void> Close();
  const NetAddress& meta_address() const { return meta_; }

  Task<Status> CreateContainer(const std::string& name, const ContainerOptions& options);
  Task<Status> DeleteContainer(const std::string& name);
  Task<Result<ContainerInfo>> GetContainer(const std::string& name);
  Task<Status> SetContainerMetadata(const std::string& name, const UserMetadata& metadata);
  Task<Result<std::vector<ContainerInfo>>> ListContainers(const std::string& prefix);

  Task<Result<std::shared_ptr<PutSession>>> BeginPut(const std::string& container, const std::string& name);
  // Appends one piece; on failure tells meta and retries on a fresh extent, up to
  // append_attempts. The failed attempts leave unreferenced bytes, never a second copy in the
  // object.
  // `data_crc`: the CRC32C of `data` if the caller computed it already (a gateway does, a chunk
  // at a time as the bytes arrive); the node checks the bytes against it.
  Task<Result<PieceResult>> AppendPiece(std::shared_ptr<PutSession> session, std::span<const std::byte> data,
                                        std::optional<uint32_t> data_crc = std::nullopt);
  // BeginPut, then every piece of `data`, parallel_pieces at a time. Empty data needs neither.
  Task<Result<UploadResult>> Upload(const std::string& container, const std::string& name,
                                    std::span<const std::byte> data);
  Task<Result<ObjectInfo>> Commit(const std::string& container, const std::string& name, UploadResult upload,
                                  std::string etag, uint64_t size, const PutOptions& options);

  Task<Result<Layout>> GetLayout(const std::string& container, const std::string& name,
                                 const ReadConditions& conditions);
  // Bytes [offset, offset + into.size()) of the layout's object, clipped to its end.
  Task<Result<size_t>> ReadWithLayout(const Layout& layout, uint64_t offset, std::span<std::byte> into);
  Task<Result<size_t>> GetRange(const std::string& container, const std::string& name, uint64_t offset,
                                std::span<std::byte> into, const ReadConditions& conditions);
  Task<Result<std::string>> GetWhole(const std::string& container, const std::string& name,
                                     const ReadConditions& conditions);
  Task<std::vector<Result<size_t>>> BatchGet(const std::vector<RangeRead>& reads);

  Task<Result<ObjectInfo>> Head(const std::string& container, const std::string& name,
                                const ReadConditions& conditions);
  Task<Status> Delete(const std::string& container, const std::string& name, const ReadConditions& conditions);
  Task<Result<ObjectInfo>> SetProperties(const std::string& container, const std::string& name,
                                         const PropertiesUpdate& update, const ReadConditions& conditions);
  Task<Result<ObjectPage>> ListPage(const std::string& container, const ListOptions& options);

  // Staged uploads: the rpc calls of Client's methods of the same names.
  Task<Result<std::string>> CreateUpload(const std::string& container, const std::string& name, const PutOptions& options);
  Task<Status> StageBlock(const std::string& container, const std::string& name, const std::string& upload_id,
                          const std::string& block_id, UploadResult upload, std::string etag, uint64_t size);
  Task<Result<ObjectInfo>> CommitBlocks(const std::string& container, const std::string& name,
                                        const std::string& upload_id, const std::vector<BlockToCommit>& blocks,
                                        const PutOptions& options);
  Task<Result<BlockList>> ListBlocks(const std::string& container, const std::string& name, const std::string& upload_id);
  Task<Status> AbortUpload(const std::string& container, const std::string& name, const std::string& upload_id);
  Task<Result<std::vector<UploadInfo>>> ListUploads(const std::string& container, const std::string& prefix);

 private:
  ClientCore(Env& env, const ClientOptions& options);
  Task<Result<rpc::CallResult>> CallMeta(uint32_t method, rpc::MessageBuffer message);
  // The listing call for `request`: the read-ahead's answer if it asked for exactly that since
  // this client last wrote, else a call now.
  Task<Result<rpc::CallResult>> ListCall(const meta::ListObjectsRequest& request);
  Task<void> ReadAhead(std::shared_ptr<ListReadAhead> ahead);
  Task<Status> ReadPiece(const Layout& layout, const meta::Piece& piece, uint64_t offset_in_piece,
                         std::span<std::byte> into);
  Task<Status> RefreshLocation(uint64_t extent_id, meta::ExtentLocation& location);
  Task<Result<meta::ExtentLocation>> FreshExtent(PutSession& session);

  Env& env_;
  ClientOptions options_;
  rpc::RpcClient rpc_;
  NetAddress meta_;
  std::optional<rpc::RpcChannel> meta_channel_;  // saves the peer lookup on every metadata call
  std::unique_ptr<server::ServerNode> embedded_;
  std::unique_ptr<SharedMemoryPath> shared_memory_;  // with options_.shared_memory
  std::map<std::string, std::pair<TimePoint, Layout>> layouts_;  // with layout_cache_ttl
  // Listings read one page ahead; a write by this client makes the page read ahead stale.
  std::shared_ptr<ListReadAhead> list_read_ahead_;
  uint64_t mutations_ = 0;
  TaskGroup background_;
};

}  // namespace cerulean::client
