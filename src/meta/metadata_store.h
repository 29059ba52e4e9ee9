// MetadataStore: the durable, ordered key-value map under the namespace and the cluster map.
// Meta is its only writer. Reads see committed writes only; a commit is atomic and durable when
// it returns. The layout of keys and values is docs/formats/metadata_keys.md.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/task.h"

namespace cerulean::meta {

// Writes applied together or not at all.
class MetadataBatch {
 public:
  struct Op {
    bool is_delete = false;
    std::string key;
    std::string value;  // for puts
  };
  void Put(std::string key, std::string value) { ops_.push_back({false, std::move(key), std::move(value)}); }
  void Delete(std::string key) { ops_.push_back({true, std::move(key), {}}); }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

struct MetadataEntry {
  std::string key;
  std::string value;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  // The committed value of `key`, or nothing.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // Calls `visit` on committed entries with keys in [from, to), in byte order of the keys, until
  // it returns false. The views last only for the call: long scans copy nothing they skip.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  virtual Status Visit(std::string_view from, std::string_view to, const Visitor& visit) = 0;
  // Up to `limit` committed entries with keys in [from, to), in byte order of the keys.
  Result<std::vector<MetadataEntry>> Scan(std::string_view from, std::string_view to, size_t limit) {
    std::vector<MetadataEntry> entries;
    if (limit == 0) return entries;
    entries.reserve(std::min<size_t>(limit, 1024));
    RETURN_IF_ERROR(Visit(from, to, [&](std::string_view key, std::string_view value) {
      entries.push_back({std::string(key), std::string(value)});
      return entries.size() < limit;
    }));
    return entries;
  }
  // Applies `batch` atomically; Ok once it is durable (a synchronous write-ahead log). Commits
  // that arrive while one is being written go together in the next write and sync.
  virtual Task<Status> Commit(MetadataBatch batch) = 0;
  // Waits for commits in flight; no new ones afterwards.
  virtual Task<void> Close() = 0;
};

}  // namespace cerulean::meta
