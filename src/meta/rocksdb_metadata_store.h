// RocksDbMetadataStore: MetadataStore on RocksDB. Commits are group-committed: one merged
// WriteBatch and one synced WAL write per group, run on a helper thread (Env::RunBlocking) so the
// loop keeps serving reads meanwhile. Reads run on the calling loop: they are served from
// RocksDB's memtables and block cache, and block only on a cache miss. One shard; not
// thread-safe.
#pragma once

#include <memory>
#include <string>

#include "meta/metadata_store.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/intrusive_list.h"

namespace rocksdb {
class DB;
}

namespace cerulean::meta {

struct RocksDbOptions {
  size_t block_cache_bytes = 256ull << 20;
};

class RocksDbMetadataStore final : public MetadataStore {
 public:
  // Opens (creating if needed) the database in `directory`.
  static Result<std::unique_ptr<RocksDbMetadataStore>> Open(Env& env, const std::string& directory,
                                                           RocksDbOptions options = {});
  ~RocksDbMetadataStore() override;

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Visit(std::string_view from, std::string_view to, const Visitor& visit) override;
  Task<Status> Commit(MetadataBatch batch) override;
  Task<void> Close() override;

  // Synced WAL writes so far; with group commit, fewer than commits.
  uint64_t wal_syncs() const { return wal_syncs_; }

 private:
  struct PendingCommit;
  RocksDbMetadataStore(Env& env, std::unique_ptr<rocksdb::DB> db);
  Task<void> CommitLoop();

  Env& env_;
  std::unique_ptr<rocksdb::DB> db_;
  IntrusiveList<PendingCommit> pending_;
  bool committing_ = false;
  bool closed_ = false;
  Event idle_;
  uint64_t wal_syncs_ = 0;
};

}  // namespace cerulean::meta
