// Staged uploads of the Namespace (namespace.h): blocks and parts staged under an upload, then
// committed as one object in one atomic batch. docs/protocols/metadata.md, "Staged uploads".
#include <fmt/format.h>

#include <map>

#include "base/crc32c.h"
#include "base/md5.h"
#include "meta/meta_keys.h"
#include "meta/names.h"
#include "meta/namespace.h"
#include "meta/namespace_reads.h"

namespace cerulean::meta {
namespace {

Status ValidateUpload(const UploadKey& upload) {
  RETURN_IF_ERROR(ValidateContainerName(upload.container));
  RETURN_IF_ERROR(ValidateObjectName(upload.name));
  if (upload.upload_id.find('\0') != std::string::npos || upload.upload_id.size() > 128) {
    return Status::InvalidArgument("an upload id is at most 128 bytes and holds no NUL");
  }
  return Status::Ok();
}

Status ValidateBlockId(std::string_view id) {
  if (id.empty() || id.size() > kBlockIdBytesMax || id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("a block id is 1 to {} bytes and holds no NUL", kBlockIdBytesMax));
  }
  return Status::Ok();
}

Status UploadExists(MetadataStore& store, const UploadKey& upload) {
  if (upload.upload_id.empty()) return Status::Ok();  // Azure's implicit upload always exists
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.Get(keys::Upload(upload.container, upload.name, upload.upload_id)));
  if (!bytes) {
    return Status::NotFound(fmt::format("no upload '{}' of object '{}' in container '{}'", upload.upload_id, upload.name,
                                        upload.container));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::pair<std::string, StagedBlockRecord>>> Namespace::ReadStagedBlocks(const UploadKey& upload) {
  const std::string prefix = keys::StagedBlocksOf(upload.container, upload.name, upload.upload_id);
  ASSIGN_OR_RETURN(std::vector<MetadataEntry> entries, store_.Scan(prefix, keys::PrefixEnd(prefix), SIZE_MAX));
  std::vector<std::pair<std::string, StagedBlockRecord>> blocks;
  for (MetadataEntry& entry : entries) {
    ASSIGN_OR_RETURN(StagedBlockRecord record, DecodeStagedBlockRecord(entry.value));
    blocks.emplace_back(entry.key.substr(prefix.size()), std::move(record));
  }
  return blocks;
}

Task<Status> Namespace::DoCreateUpload(UploadKey upload, UploadRecord record) {
  CO_RETURN_IF_ERROR(ValidateUpload(upload));
  if (upload.upload_id.empty()) co_return Status::InvalidArgument("an upload needs an id");
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(upload.container));
  CO_RETURN_IF_ERROR(detail::ContainerExists(store_, upload.container));
  MetadataBatch batch;
  batch.Put(keys::Upload(upload.container, upload.name, upload.upload_id), EncodeUploadRecord(record));
  co_return co_await store_.Commit(std::move(batch));
}

Task<Status> Namespace::DoStageBlock(UploadKey upload, std::string block_id, StagedBlockRecord record) {
  CO_RETURN_IF_ERROR(ValidateUpload(upload));
  CO_RETURN_IF_ERROR(ValidateBlockId(block_id));
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(upload.container));
  // Exclusive with commits of the object, which read and drop the staged blocks.
  KeyLocks::Guard object_guard = co_await locks_.Exclusive(keys::Object(upload.container, upload.name));
  CO_RETURN_IF_ERROR(detail::ContainerExists(store_, upload.container));
  CO_RETURN_IF_ERROR(UploadExists(store_, upload));
  MetadataBatch batch;
  batch.Put(keys::StagedBlock(upload.container, upload.name, upload.upload_id, block_id),
            EncodeStagedBlockRecord(record));
  co_return co_await store_.Commit(std::move(batch));
}

Task<Result<std::pair<ObjectRecord, std::optional<ObjectRecord>>>> Namespace::DoCommitBlocks(
    UploadKey upload, std::vector<BlockChoice> blocks, ObjectRecord base, Conditions conditions) {
  CO_RETURN_IF_ERROR(ValidateUpload(upload));
  if (blocks.size() > kCommitBlocksMax) {
    co_return Status::InvalidArgument(fmt::format("{} blocks; a commit takes at most {}", blocks.size(), kCommitBlocksMax));
  }
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(upload.container));
  const std::string key = keys::Object(upload.container, upload.name);
  KeyLocks::Guard object_guard = co_await locks_.Exclusive(key);
  CO_RETURN_IF_ERROR(detail::ContainerExists(store_, upload.container));
  auto current = detail::ReadObject(store_, upload.container, upload.name);
  if (!current.ok()) co_return current.status();
  CO_RETURN_IF_ERROR(detail::CheckConditions(*current, conditions));
  if (!upload.upload_id.empty()) {
    auto stored = store_.Get(keys::Upload(upload.container, upload.name, upload.upload_id));
    if (!stored.ok()) co_return stored.status();
    if (!*stored) {
      co_return Status::NotFound(fmt::format("no upload '{}' of object '{}' in container '{}'", upload.upload_id,
                                             upload.name, upload.container));
    }
    CO_ASSIGN_OR_RETURN(UploadRecord record, DecodeUploadRecord(**stored));
    base.content_type = std::move(record.content_type);
    base.metadata = std::move(record.metadata);
    base.headers = std::move(record.headers);
  }
  auto staged_list = ReadStagedBlocks(upload);
  if (!staged_list.ok()) co_return staged_list.status();
  std::map<std::string, const StagedBlockRecord*> staged;
  for (const auto& [id, record] : *staged_list) staged[id] = &record;
  // The current object's committed blocks, by id, as runs of its pieces.
  std::map<std::string, std::pair<size_t, uint32_t>> committed;  // id -> (first piece, count)
  if (*current) {
    size_t first = 0;
    for (const BlockRef& block : (*current)->blocks) {
      committed[block.id] = {first, block.pieces};
      first += block.pieces;
    }
  }

  ObjectRecord record = std::move(base);
  record.pieces.clear();
  record.blocks.clear();
  record.size = 0;
  // The ETag hashes each block's identity: a staged block's MD5 (so an S3 multipart object gets
  // S3's own ETag: the MD5 of the parts' MD5s, a dash, the count), or a reused block's CRCs.
  Md5 etag;
  for (const BlockChoice& choice : blocks) {
    CO_RETURN_IF_ERROR(ValidateBlockId(choice.id));
    auto in_staged = staged.find(choice.id);
    auto in_committed = committed.find(choice.id);
    const bool use_staged =
        in_staged != staged.end() && (choice.source == BlockSource::kUncommitted || choice.source == BlockSource::kLatest);
    const bool use_committed = !use_staged && in_committed != committed.end() &&
                               (choice.source == BlockSource::kCommitted || choice.source == BlockSource::kLatest);
    BlockRef ref;
    ref.id = choice.id;
    if (use_staged) {
      const StagedBlockRecord& block = *in_staged->second;
      record.pieces.insert(record.pieces.end(), block.pieces.begin(), block.pieces.end());
      record.size += block.size;
      ref.pieces = static_cast<uint32_t>(block.pieces.size());
      const std::string digest = BytesOfHex(detail::BareEtag(block.etag));
      etag.Update(digest.empty() ? std::string_view(block.etag) : std::string_view(digest));
    } else if (use_committed) {
      const auto [first, count] = in_committed->second;
      for (size_t i = first; i < first + count; i++) {
        const Piece& piece = (*current)->pieces[i];
        record.pieces.push_back(piece);
        record.size += piece.length;
        const uint32_t crc = piece.crc32c;
        const char bytes[4] = {char(crc >> 24), char(crc >> 16), char(crc >> 8), char(crc)};
        etag.Update(std::string_view(bytes, 4));
      }
      ref.pieces = count;
    } else {
      const char* where = choice.source == BlockSource::kCommitted     ? "among the committed blocks"
                          : choice.source == BlockSource::kUncommitted ? "among the uncommitted blocks"
                                                                       : "staged or committed";
      co_return Status::InvalidArgument(fmt::format("block '{}' is not {}", choice.id, where));
    }
    record.blocks.push_back(std::move(ref));
  }
  uint32_t crc = 0;
  for (const Piece& piece : record.pieces) crc = Crc32cCombine(crc, piece.crc32c, piece.length);
  record.crc32c = crc;
  record.etag = fmt::format("\"{}-{}\"", HexOf(etag.Finish()), blocks.size());
  if (*current) record.created_unix_ns = (*current)->created_unix_ns;
  if (record.blocks.empty()) record.blocks.clear();  // an empty object has no block list to keep

  MetadataBatch batch;
  batch.Put(key, EncodeObjectRecord(record));
  // Committing ends the upload: its record and every block staged in it go, used or not.
  for (const auto& [id, unused] : *staged_list) {
    batch.Delete(keys::StagedBlock(upload.container, upload.name, upload.upload_id, id));
  }
  if (!upload.upload_id.empty()) batch.Delete(keys::Upload(upload.container, upload.name, upload.upload_id));
  const ObjectRecord* replaced = current->has_value() ? &**current : nullptr;
  CO_RETURN_IF_ERROR(co_await CommitWithAccounting(std::move(batch), &record, replaced));
  co_return std::make_pair(std::move(record), std::move(*current));
}

Result<BlockListing> Namespace::ListBlocks(const UploadKey& upload) {
  RETURN_IF_ERROR(ValidateUpload(upload));
  RETURN_IF_ERROR(detail::ContainerExists(store_, upload.container));
  RETURN_IF_ERROR(UploadExists(store_, upload));
  BlockListing listing;
  ASSIGN_OR_RETURN(listing.uncommitted, ReadStagedBlocks(upload));
  ASSIGN_OR_RETURN(std::optional<ObjectRecord> current, detail::ReadObject(store_, upload.container, upload.name));
  if (current) {
    size_t first = 0;
    for (const BlockRef& block : current->blocks) {
      uint64_t size = 0;
      for (size_t i = first; i < first + block.pieces; i++) size += current->pieces[i].length;
      listing.committed.emplace_back(block.id, size);
      first += block.pieces;
    }
  }
  return listing;
}

Task<Status> Namespace::DoAbortUpload(UploadKey upload) {
  CO_RETURN_IF_ERROR(ValidateUpload(upload));
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(upload.container));
  KeyLocks::Guard object_guard = co_await locks_.Exclusive(keys::Object(upload.container, upload.name));
  CO_RETURN_IF_ERROR(UploadExists(store_, upload));
  auto staged = ReadStagedBlocks(upload);
  if (!staged.ok()) co_return staged.status();
  MetadataBatch batch;
  for (const auto& [id, unused] : *staged) {
    batch.Delete(keys::StagedBlock(upload.container, upload.name, upload.upload_id, id));
  }
  if (!upload.upload_id.empty()) batch.Delete(keys::Upload(upload.container, upload.name, upload.upload_id));
  if (batch.empty()) co_return Status::Ok();
  co_return co_await store_.Commit(std::move(batch));
}

Result<UploadListing> Namespace::ListUploads(std::string_view container, std::string_view prefix,
                                             std::string_view start_name, std::string_view start_upload_id,
                                             size_t max_results) {
  if (max_results == 0 || max_results > kListResultsMax) {
    return Status::InvalidArgument(fmt::format("max results {} outside 1..{}", max_results, kListResultsMax));
  }
  RETURN_IF_ERROR(detail::ContainerExists(store_, container));
  const std::string begin = keys::UploadsOf(container, prefix);
  std::string from = begin;
  if (!start_name.empty()) from = std::max(from, keys::Upload(container, start_name, start_upload_id) + '\0');
  const std::string end = keys::PrefixEnd(begin);
  ASSIGN_OR_RETURN(std::vector<MetadataEntry> entries, store_.Scan(from, end, max_results + 1));
  UploadListing listing;
  const size_t name_at = 2 + container.size();
  for (MetadataEntry& entry : entries) {
    if (listing.uploads.size() == max_results) {
      listing.truncated = true;
      break;
    }
    const std::string_view rest = std::string_view(entry.key).substr(name_at);
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return Status::DataLoss("an upload key without an upload id");
    UploadEntry upload;
    upload.name = std::string(rest.substr(0, nul));
    upload.upload_id = std::string(rest.substr(nul + 1));
    ASSIGN_OR_RETURN(upload.record, DecodeUploadRecord(entry.value));
    listing.uploads.push_back(std::move(upload));
  }
  return listing;
}

}  // namespace cerulean::meta
