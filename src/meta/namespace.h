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

// Told of every object that a commit or a delete adds or removes, so that extents can count
// their live bytes in the same atomic batch.
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

 private:
  // The coroutines behind the methods above. They own copies of their strings: g++ 12 cannot
  // pass a string literal to a coroutine's std::string parameter, and a lazy coroutine must not
  // hold a view of the caller's temporaries.
  Task<Status> DoCreateContainer(std::string name, ContainerRecord record);
  Task<Status> DoDeleteContainer(std::string name);
  Task<Status> DoSetContainerMetadata(std::string name, UserMetadata metadata);
  Task<Result<std::optional<ObjectRecord>>> DoCommitObject(std::string container, std::string name,
                                                           ObjectRecord record, Conditions conditions);
  Task<Result<ObjectRecord>> DoDeleteObject(std::string container, std::string name, Conditions conditions);

  Task<Status> CommitWithAccounting(MetadataBatch batch, const ObjectRecord* added, const ObjectRecord* removed);

  MetadataStore& store_;
  KeyLocks locks_;
  PieceAccounting* accounting_ = nullptr;
};

}  // namespace cerulean::meta
