// Namespace: containers and objects over a MetadataStore (docs/protocols/metadata.md). Every
// mutation is read, check, commit under key locks: an object's key exclusively, its container's
// key shared (a container delete takes it exclusively), so a put can never land in a container
// being deleted and two writers of one name never interleave. A commit is one atomic batch, so
// readers see the old object or the new one, never a mix. One shard; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "meta/key_locks.h"
#include "meta/meta_records.h"
#include "meta/metadata_store.h"

namespace cerulean::meta {

inline constexpr size_t kListResultsMax = 5000;
inline constexpr size_t kListResultsDefault = 1000;

// Preconditions on the ETag of the object a request would replace or read. (Not an aggregate:
// g++ 12 miscompiles braced aggregates holding strings built inside coroutines.)
struct Conditions {
  Conditions() = default;
  static Conditions IfMatch(std::string etag) {
    Conditions conditions;
    conditions.if_match = std::move(etag);
    return conditions;
  }
  static Conditions IfNoneMatch(std::string etag) {
    Conditions conditions;
    conditions.if_none_match = std::move(etag);
    return conditions;
  }
  std::optional<std::string> if_match;       // the current ETag must be this ("*": any object)
  std::optional<std::string> if_none_match;  // the current ETag must not be this ("*": no object)
};

struct ListObjectsOptions {
  std::string prefix;
  std::string delimiter;    // empty: no grouping
  std::string start_after;  // names up to and including this are skipped (a marker or token)
  size_t max_results = kListResultsDefault;  // 1..5000; objects and common prefixes both count
};

struct ObjectListing {
  std::vector<std::pair<std::string, ObjectRecord>> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  // With truncated: the last name or common prefix returned; pass it as start_after to go on.
  std::string next_start_after;
};

struct ContainerListing {
  std::vector<std::pair<std::string, ContainerRecord>> containers;
  bool truncated = false;
  std::string next_start_after;
};

// Staged uploads (docs/protocols/metadata.md, "Staged uploads"): one upload of one object.
// Azure's block blobs use the empty upload id; S3's multipart uploads an id from CreateUpload.
struct UploadKey {
  UploadKey(std::string_view container_name, std::string_view object_name, std::string_view upload)
      : container(container_name), name(object_name), upload_id(upload) {}
  std::string container;
  std::string name;
  std::string upload_id;
};

// Where a block of a commit comes from (Azure's Put Block List; S3 parts are uncommitted).
enum class BlockSource : uint8_t { kLatest = 0, kCommitted = 1, kUncommitted = 2 };

struct BlockChoice {
  BlockChoice() = default;
  BlockChoice(std::string block_id, BlockSource block_source) : id(std::move(block_id)), source(block_source) {}
  std::string id;
  BlockSource source = BlockSource::kLatest;
};

struct BlockListing {
  std::vector<std::pair<std::string, StagedBlockRecord>> uncommitted;  // by block id
  std::vector<std::pair<std::string, uint64_t>> committed;             // id and size, in object order
};

struct UploadEntry {
  std::string name;
  std::string upload_id;
  UploadRecord record;
};

struct UploadListing {
  std::vector<UploadEntry> uploads;
  bool truncated = false;
};

inline constexpr size_t kBlockIdBytesMax = 1024;
inline constexpr size_t kCommitBlocksMax = 100'000;

// Told of every object that a commit or a delete adds or removes, so that extents can count
// their live bytes in the same atomic batch.
// What SetObjectProperties replaces.
struct PropertiesUpdate {
  bool set_content = false;  // the content type and headers
  std::string content_type;
  ContentHeaders headers;
  bool set_metadata = false;
  UserMetadata metadata;
};

class PieceAccounting {
 public:
  virtual ~PieceAccounting() = default;
  // Adds to `batch` whatever changes with the commit; called just before it is written.
  virtual void Account(const ObjectRecord* added, const ObjectRecord* removed, MetadataBatch& batch) = 0;
  // The batch failed: takes back what Account counted.
  virtual void Unaccount(const ObjectRecord* added, const ObjectRecord* removed) = 0;
};

class Namespace {
 public:
  Namespace(Env& env, MetadataStore& store) : store_(store), locks_(env) {}

  // Optional; must outlive the namespace.
  void set_accounting(PieceAccounting* accounting) { accounting_ = accounting; }

  // AlreadyExists if it exists; InvalidArgument for a bad name.
  Task<Status> CreateContainer(std::string_view name, ContainerRecord record) {
    return DoCreateContainer(std::string(name), std::move(record));
  }
  // FailedPrecondition while it holds objects; NotFound if absent.
  Task<Status> DeleteContainer(std::string_view name) { return DoDeleteContainer(std::string(name)); }
  Result<ContainerRecord> GetContainer(std::string_view name);
  Task<Status> SetContainerMetadata(std::string_view name, UserMetadata metadata) {
    return DoSetContainerMetadata(std::string(name), std::move(metadata));
  }
  Result<ContainerListing> ListContainers(std::string_view prefix, std::string_view start_after, size_t max_results);

  // Publishes `record` under `name` atomically. FailedPrecondition if `conditions` fail. Returns
  // the record it replaced, whose pieces become garbage.
  Task<Result<std::optional<ObjectRecord>>> CommitObject(std::string_view container, std::string_view name,
                                                         ObjectRecord record, Conditions conditions = {}) {
    return DoCommitObject(std::string(container), std::string(name), std::move(record), std::move(conditions));
  }
  // NotFound if absent; FailedPrecondition if `conditions` fail.
  Result<ObjectRecord> HeadObject(std::string_view container, std::string_view name, const Conditions& conditions = {});
  // Returns the deleted record. NotFound if absent.
  Task<Result<ObjectRecord>> DeleteObject(std::string_view container, std::string_view name,
                                          Conditions conditions = {}) {
    return DoDeleteObject(std::string(container), std::string(name), std::move(conditions));
  }
  Result<ObjectListing> ListObjects(std::string_view container, const ListObjectsOptions& options);
  // Replaces the object's content type and headers and/or its metadata, keeping its bytes and
  // ETag; the modification time moves. Returns the new record. NotFound if absent.
  Task<Result<ObjectRecord>> SetObjectProperties(std::string_view container, std::string_view name,
                                                 PropertiesUpdate update, Conditions conditions = {}) {
    return DoSetObjectProperties(std::string(container), std::string(name), std::move(update), std::move(conditions));
  }

  // Staged uploads. An S3 upload begins with CreateUpload (its id chosen by the caller); Azure's
  // implicit one (empty id) needs none. NotFound for a missing container or upload.
  Task<Status> CreateUpload(const UploadKey& upload, UploadRecord record) { return DoCreateUpload(upload, std::move(record)); }
  // Records a block whose pieces are durable; a block of the same id is replaced.
  Task<Status> StageBlock(const UploadKey& upload, std::string_view block_id, StagedBlockRecord record) {
    return DoStageBlock(upload, std::string(block_id), std::move(record));
  }
  // Publishes the object made of `blocks`, in order, atomically, and drops the upload and every
  // block staged in it. `base` gives the content type and metadata (an S3 upload's own are used
  // instead). InvalidArgument names a block that is not where `blocks` says. Returns the
  // committed record and the one it replaced.
  Task<Result<std::pair<ObjectRecord, std::optional<ObjectRecord>>>> CommitBlocks(
      const UploadKey& upload, std::vector<BlockChoice> blocks, ObjectRecord base, Conditions conditions = {}) {
    return DoCommitBlocks(upload, std::move(blocks), std::move(base), std::move(conditions));
  }
  // The staged blocks of the upload, and the committed blocks of the current object.
  Result<BlockListing> ListBlocks(const UploadKey& upload);
  // Drops the upload and its blocks; NotFound for an S3 upload that does not exist.
  Task<Status> AbortUpload(const UploadKey& upload) { return DoAbortUpload(upload); }
  // Uploads in progress, by object name then upload id, after (start_name, start_upload_id).
  Result<UploadListing> ListUploads(std::string_view container, std::string_view prefix, std::string_view start_name,
                                    std::string_view start_upload_id, size_t max_results);

 private:
  Task<Status> DoCreateUpload(UploadKey upload, UploadRecord record);
  Task<Status> DoStageBlock(UploadKey upload, std::string block_id, StagedBlockRecord record);
  Task<Result<std::pair<ObjectRecord, std::optional<ObjectRecord>>>> DoCommitBlocks(UploadKey upload,
                                                                                    std::vector<BlockChoice> blocks,
                                                                                    ObjectRecord base,
                                                                                    Conditions conditions);
  Task<Status> DoAbortUpload(UploadKey upload);
  Result<std::vector<std::pair<std::string, StagedBlockRecord>>> ReadStagedBlocks(const UploadKey& upload);

  // The coroutines behind the methods above. They own copies of their strings: g++ 12 cannot
  // pass a string literal to a coroutine's std::string parameter, and a lazy coroutine must not
  // hold a view of the caller's temporaries.
  Task<Status> DoCreateContainer(std::string name, ContainerRecord record);
  Task<Status> DoDeleteContainer(std::string name);
  Task<Status> DoSetContainerMetadata(std::string name, UserMetadata metadata);
  Task<Result<std::optional<ObjectRecord>>> DoCommitObject(std::string container, std::string name,
                                                           ObjectRecord record, Conditions conditions);
  Task<Result<ObjectRecord>> DoDeleteObject(std::string container, std::string name, Conditions conditions);
  Task<Result<ObjectRecord>> DoSetObjectProperties(std::string container, std::string name, PropertiesUpdate update,
                                                   Conditions conditions);

  Task<Status> CommitWithAccounting(MetadataBatch batch, const ObjectRecord* added, const ObjectRecord* removed);

  MetadataStore& store_;
  KeyLocks locks_;
  PieceAccounting* accounting_ = nullptr;
};

}  // namespace cerulean::meta
