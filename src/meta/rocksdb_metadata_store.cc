#include "meta/rocksdb_metadata_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <vector>

#include "base/logging.h"
#include "runtime/spawn.h"

namespace cerulean::meta {
namespace {

Status FromRocksDb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  const std::string message = fmt::format("{}: {}", what, status.ToString());
  if (status.IsNotFound()) return Status::NotFound(message);
  if (status.IsCorruption()) return Status::DataLoss(message);
  if (status.IsNoSpace() || status.IsMemoryLimit()) return Status::ResourceExhausted(message);
  if (status.IsInvalidArgument()) return Status::InvalidArgument(message);
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) return Status::Unavailable(message);
  if (status.IsIOError()) return Status::Unavailable(message);
  return Status::Internal(message);
}

rocksdb::Slice ToSlice(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

struct RocksDbMetadataStore::PendingCommit : IntrusiveListNode {
  explicit PendingCommit(Env& env, MetadataBatch b) : batch(std::move(b)), done(env) {}
  MetadataBatch batch;
  Status status;
  Event done;
};

Result<std::unique_ptr<RocksDbMetadataStore>> RocksDbMetadataStore::Open(Env& env, const std::string& directory,
                                                                        RocksDbOptions options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.max_background_jobs = 2;
  db_options.paranoid_checks = true;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(db_options, directory, &raw), "open metadata store " + directory));
  LOG_INFO("metadata store open directory={}", directory);
  return std::unique_ptr<RocksDbMetadataStore>(new RocksDbMetadataStore(env, std::unique_ptr<rocksdb::DB>(raw)));
}

RocksDbMetadataStore::RocksDbMetadataStore(Env& env, std::unique_ptr<rocksdb::DB> db)
    : env_(env), db_(std::move(db)), idle_(env) {
  idle_.Set();
}

RocksDbMetadataStore::~RocksDbMetadataStore() { CHECK(!committing_) << "Close() the metadata store first"; }

Result<std::optional<std::string>> RocksDbMetadataStore::Get(std::string_view key) {
  std::string value;
  const rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  RETURN_IF_ERROR(FromRocksDb(status, "metadata get"));
  return std::optional<std::string>(std::move(value));
}

Status RocksDbMetadataStore::Visit(std::string_view from, std::string_view to, const Visitor& visit) {
  rocksdb::ReadOptions read_options;
  const rocksdb::Slice upper = ToSlice(to);
  read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
  for (it->Seek(ToSlice(from)); it->Valid(); it->Next()) {
    if (!visit(std::string_view(it->key().data(), it->key().size()),
               std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocksDb(it->status(), "metadata scan");
}

Task<Status> RocksDbMetadataStore::Commit(MetadataBatch batch) {
  if (closed_) co_return Status::FailedPrecondition("metadata store closed");
  if (batch.empty()) co_return Status::Ok();
  PendingCommit commit(env_, std::move(batch));
  pending_.PushBack(&commit);
  if (!committing_) {
    committing_ = true;
    idle_.Reset();
    Spawn(env_, CommitLoop());
  }
  Status waited = co_await commit.done.Wait();
  CHECK(waited.ok());
  co_return commit.status;
}

Task<void> RocksDbMetadataStore::CommitLoop() {
  std::vector<PendingCommit*> group;
  while (!pending_.empty()) {
    // Everything queued so far becomes one write and one sync, on a helper thread.
    group.clear();
    rocksdb::WriteBatch merged;
    while (PendingCommit* commit = pending_.PopFront()) {
      group.push_back(commit);
      for (const MetadataBatch::Op& op : commit->batch.ops()) {
        if (op.is_delete) {
          merged.Delete(ToSlice(op.key));
        } else {
          merged.Put(ToSlice(op.key), ToSlice(op.value));
        }
      }
    }
    rocksdb::Status written;
    co_await env_.RunBlocking([&] {
      rocksdb::WriteOptions options;
      options.sync = true;
      written = db_->Write(options, &merged);
    });
    wal_syncs_++;
    const Status status = FromRocksDb(written, "metadata commit");
    if (!status.ok()) LOG_ERROR("metadata commit failed commits={} error={}", group.size(), status.ToString());
    for (PendingCommit* commit : group) {
      commit->status = status;
      commit->done.Set();
    }
  }
  committing_ = false;
  idle_.Set();
}

Task<void> RocksDbMetadataStore::Close() {
  closed_ = true;
  Status waited = co_await idle_.Wait();
  CHECK(waited.ok());
}

}  // namespace cerulean::meta
