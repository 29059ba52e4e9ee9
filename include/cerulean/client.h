// The native C++ client of Cerulean: containers and objects, with data moving straight between
// the caller and the storage nodes (meta carries metadata only). docs/CLIENT.md.
//
//   auto client = cerulean::Client::Open({.meta_address = "127.0.0.1:7400"});
//   (*client)->CreateContainer("models");
//   (*client)->Put("models", "resnet/weights.bin", bytes);
//   auto data = (*client)->Get("models", "resnet/weights.bin");
//
// Thread-safe: every method may be called from any thread, concurrently. Calls run on the
// client's own event-loop thread; the blocking methods wait for them, the *Async methods return
// a std::future. Errors come back as a Status whose code says what happened: NotFound,
// AlreadyExists, FailedPrecondition (an ETag condition failed, a container not empty),
// InvalidArgument (a bad name), Unavailable (still failing after retries), DataLoss (stored
// bytes failed their checksum on every replica).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "cerulean/content_headers.h"

namespace cerulean {

struct ClientOptions {
  // Meta's host:port. Ignored in embedded mode.
  std::string meta_address = "127.0.0.1:7400";
  // Embedded mode: when set, the client runs its own all-in-one server (meta and one storage
  // node) in this data directory, inside the process, on a loopback port.
  std::string embedded_directory;
  // Objects are cut into pieces of this size, written to and read from several chains at once.
  uint32_t piece_bytes = 8u << 20;
  // Pieces moved at once by one put or get.
  uint32_t parallel_pieces = 8;
  // Replicas of new data; 0 takes the cluster's default.
  uint8_t replicas = 0;
  // Appends of one piece that fail for a fault (a replica down, a disk error, a timeout), each
  // followed by a move to a fresh extent, before a put gives up. An extent that is full or sealed
  // is no fault: the piece moves on without counting.
  uint32_t append_attempts = 4;
  std::chrono::milliseconds timeout{30'000};
  // Object layouts are cached this long (0: every get asks meta). Use it only for objects that
  // are not overwritten while cached, such as a training set.
  std::chrono::milliseconds layout_cache_ttl{0};
  // Reads from and appends to storage nodes on this host go through memory the client shares
  // with them (a memfd they map): they read from their disks straight into it and write to
  // their disks straight from it, and no socket carries the bytes. Nodes elsewhere, or that
  // cannot map it, are reached by TCP. The region holds max(parallel_pieces, 16) pieces; its
  // pages are faulted in as transfers use them.
  bool shared_memory = true;
  // How long the client's thread spins for responses before it sleeps. Waking a sleeping thread
  // costs tens of microseconds on a VM, a large share of a small read; spinning trades part of a
  // core for that. 0, the default, sleeps at once.
  std::chrono::microseconds poll_before_sleep{0};
};

using UserMetadata = std::vector<std::pair<std::string, std::string>>;

struct ContainerInfo {
  std::string name;
  int64_t created_unix_ns = 0;
  bool public_read = false;
  bool public_list = true;  // with public_read: anonymous listings too
  UserMetadata metadata;
};

struct ObjectInfo {
  std::string container;
  std::string name;
  uint64_t size = 0;
  std::string etag;  // quoted: "\"<md5 hex>\"", or "\"<hex>-<pieces>\"" for a multi-piece object
  std::string content_type;
  ContentHeaders headers;
  UserMetadata metadata;
  int64_t created_unix_ns = 0;
  int64_t modified_unix_ns = 0;
  uint32_t crc32c = 0;  // of the whole object
  uint32_t pieces = 0;  // 0 in listings, which leave piece lists out
};

struct ContainerOptions {
  // Anonymous reads of its objects through the gateways; and of its listings unless
  // public_list is off (Azure's "blob" access level).
  bool public_read = false;
  bool public_list = true;
  UserMetadata metadata;
};

struct PutOptions {
  std::string content_type = "application/octet-stream";
  ContentHeaders headers;
  UserMetadata metadata;
  std::optional<std::string> if_match;       // the current ETag must be this ("*": any object)
  std::optional<std::string> if_none_match;  // "*": only if no object has this name
  // The ETag of a multi-piece object is normally a cheap composite of its pieces' checksums;
  // this asks for the MD5 of the whole content instead (about 600 MB/s on one core).
  bool md5_etag = false;
};

// What SetProperties replaces: the content type and headers, the metadata, or both. The bytes
// and the ETag stay; the modification time moves.
struct PropertiesUpdate {
  std::optional<std::string> content_type;  // set: the content type and `headers` are replaced
  ContentHeaders headers;
  std::optional<UserMetadata> metadata;
};

struct ReadConditions {
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  uint32_t page_size = 1000;  // 1..5000
};

struct ObjectPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_start_after;  // with truncated: pass it as ListOptions::start_after
};

// One range of one object for BatchGet, read into `into` (which must hold `length` bytes).
struct RangeRead {
  std::string container;
  std::string name;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::span<std::byte> into;
};

// Staged uploads: blocks (Azure) or parts (S3) staged under an upload, then committed as one
// object in a chosen order. Upload id "" is the object's implicit upload (Azure's block blobs);
// CreateUpload makes a named one (S3's multipart uploads).
enum class BlockSource : uint8_t { kLatest = 0, kCommitted = 1, kUncommitted = 2 };

struct BlockToCommit {
  std::string id;
  BlockSource source = BlockSource::kLatest;
};

struct StagedBlockInfo {
  std::string id;
  uint64_t size = 0;
  std::string etag;  // the MD5 of its content, quoted (or a composite: StageOptions::md5_etag)
};

struct BlockList {
  std::vector<StagedBlockInfo> uncommitted;
  std::vector<StagedBlockInfo> committed;  // of the current object, in order (no ETags)
};

struct UploadInfo {
  std::string name;
  std::string upload_id;
  int64_t created_unix_ns = 0;
};

struct StageOptions {
  // The block's ETag is the MD5 of its content, as S3 parts' are. Off, it is a composite of its
  // pieces' CRCs, which costs nothing: MD5 runs at ~600 MB/s on one core, slower than the rest
  // of a staged write (checkpoints and streamed writers turn it off).
  bool md5_etag = true;
};

class Client;

// Walks a listing page by page, asking meta for the next page when one runs out.
class ObjectIterator {
 public:
  // The next object, or nothing at the end. An error ends the walk.
  Result<std::optional<ObjectInfo>> Next();

 private:
  friend class Client;
  ObjectIterator(Client& client, std::string container, ListOptions options)
      : client_(&client), container_(std::move(container)), options_(std::move(options)) {}
  Client* client_;
  std::string container_;
  ListOptions options_;
  ObjectPage page_;
  size_t index_ = 0;
  bool fetched_ = false;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Open(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Containers.
  Status CreateContainer(const std::string& name, const ContainerOptions& options = {});
  Status DeleteContainer(const std::string& name);  // FailedPrecondition while it holds objects
  Result<ContainerInfo> GetContainer(const std::string& name);
  Status SetContainerMetadata(const std::string& name, const UserMetadata& metadata);
  Result<std::vector<ContainerInfo>> ListContainers(const std::string& prefix = "");

  // Puts. The object appears whole or not at all.
  Result<ObjectInfo> Put(const std::string& container, const std::string& name, std::span<const std::byte> data,
                         const PutOptions& options = {});
  Result<ObjectInfo> Put(const std::string& container, const std::string& name, std::string_view data,
                         const PutOptions& options = {});
  // Reads `in` to its end, holding at most parallel_pieces pieces in memory. `progress` is told
  // the bytes read so far.
  Result<ObjectInfo> PutStream(const std::string& container, const std::string& name, std::istream& in,
                               const PutOptions& options = {},
                               const std::function<void(uint64_t done)>& progress = {});
  std::future<Result<ObjectInfo>> PutAsync(std::string container, std::string name, std::span<const std::byte> data,
                                           PutOptions options = {});

  // Gets. Every byte is checked against its checksum before it is returned.
  Result<std::string> Get(const std::string& container, const std::string& name, const ReadConditions& conditions = {});
  // Bytes [offset, offset + into.size()) clipped to the object, into the caller's buffer;
  // returns how many were read. OutOfRange when offset is past the end (offset == size reads 0).
  Result<size_t> GetRange(const std::string& container, const std::string& name, uint64_t offset,
                          std::span<std::byte> into, const ReadConditions& conditions = {});
  // The whole object into `out`, one version of it even if it is overwritten meanwhile.
  Result<ObjectInfo> GetToStream(const std::string& container, const std::string& name, std::ostream& out,
                                 const std::function<void(uint64_t done, uint64_t total)>& progress = {});
  std::future<Result<size_t>> GetRangeAsync(std::string container, std::string name, uint64_t offset,
                                            std::span<std::byte> into);
  // Many ranges of many objects at once; one result per range, in order.
  std::vector<Result<size_t>> BatchGet(std::vector<RangeRead> reads);

  Result<ObjectInfo> Head(const std::string& container, const std::string& name, const ReadConditions& conditions = {});
  Status Delete(const std::string& container, const std::string& name, const ReadConditions& conditions = {});
  Result<ObjectInfo> SetProperties(const std::string& container, const std::string& name, const PropertiesUpdate& update,
                                   const ReadConditions& conditions = {});
  Result<ObjectPage> ListPage(const std::string& container, const ListOptions& options = {});
  ObjectIterator List(const std::string& container, ListOptions options = {});

  // Staged uploads. A staged block is durable at once; it becomes part of an object only by
  // CommitBlocks, which publishes the object atomically and drops the upload's other blocks.
  Result<std::string> CreateUpload(const std::string& container, const std::string& name, const PutOptions& options = {});
  Result<StagedBlockInfo> StageBlock(const std::string& container, const std::string& name, const std::string& upload_id,
                                     const std::string& block_id, std::span<const std::byte> data,
                                     const StageOptions& options = {});
  Result<ObjectInfo> CommitBlocks(const std::string& container, const std::string& name, const std::string& upload_id,
                                  const std::vector<BlockToCommit>& blocks, const PutOptions& options = {});
  Result<BlockList> ListBlocks(const std::string& container, const std::string& name, const std::string& upload_id);
  Status AbortUpload(const std::string& container, const std::string& name, const std::string& upload_id);
  Result<std::vector<UploadInfo>> ListUploads(const std::string& container, const std::string& prefix = "");

  // The address the client talks to (meta's, or the embedded server's).
  std::string meta_address() const;

  class Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cerulean
