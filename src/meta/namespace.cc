#include "meta/namespace.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/time.h"
#include "meta/meta_keys.h"
#include "meta/names.h"
#include "meta/namespace_reads.h"

namespace cerulean::meta {
namespace detail {

std::string_view BareEtag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

Status CheckConditions(const std::optional<ObjectRecord>& current, const Conditions& conditions) {
  if (conditions.if_match) {
    if (!current) return Status::FailedPrecondition("If-Match: the object does not exist");
    if (*conditions.if_match != "*" && BareEtag(*conditions.if_match) != BareEtag(current->etag)) {
      return Status::FailedPrecondition(fmt::format("If-Match: the ETag is {}, not {}", current->etag, *conditions.if_match));
    }
  }
  if (conditions.if_none_match && current) {
    if (*conditions.if_none_match == "*") return Status::FailedPrecondition("If-None-Match: the object exists");
    if (BareEtag(*conditions.if_none_match) == BareEtag(current->etag)) {
      return Status::FailedPrecondition(fmt::format("If-None-Match: the ETag is {}", current->etag));
    }
  }
  return Status::Ok();
}

Result<std::optional<ObjectRecord>> ReadObject(MetadataStore& store, std::string_view container, std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.Get(keys::Object(container, name)));
  if (!bytes) return std::optional<ObjectRecord>();
  ASSIGN_OR_RETURN(ObjectRecord record, DecodeObjectRecord(*bytes));
  return std::optional<ObjectRecord>(std::move(record));
}

Status ContainerExists(MetadataStore& store, std::string_view container) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, store.Get(keys::Container(container)));
  if (!bytes) return Status::NotFound(fmt::format("container '{}' does not exist", container));
  return Status::Ok();
}

}  // namespace detail

using detail::CheckConditions;
using detail::ContainerExists;
using detail::ReadObject;

Task<Status> Namespace::DoCreateContainer(std::string name, ContainerRecord record) {
  CO_RETURN_IF_ERROR(ValidateContainerName(name));
  const std::string key = keys::Container(name);
  KeyLocks::Guard guard = co_await locks_.Exclusive(key);
  auto existing = store_.Get(key);
  if (!existing.ok()) co_return existing.status();
  if (*existing) co_return Status::AlreadyExists(fmt::format("container '{}' already exists", name));
  MetadataBatch batch;
  batch.Put(key, EncodeContainerRecord(record));
  co_return co_await store_.Commit(std::move(batch));
}

Task<Status> Namespace::DoDeleteContainer(std::string name) {
  const std::string key = keys::Container(name);
  KeyLocks::Guard guard = co_await locks_.Exclusive(key);
  CO_RETURN_IF_ERROR(ContainerExists(store_, name));
  // Puts hold the container shared, so none is between its check and its commit now.
  auto objects = store_.Scan(keys::Object(name, ""), keys::ObjectPrefixEnd(name, ""), 1);
  if (!objects.ok()) co_return objects.status();
  if (!objects->empty()) co_return Status::FailedPrecondition(fmt::format("container '{}' is not empty", name));
  MetadataBatch batch;
  batch.Delete(key);
  // Uploads in progress and staged blocks go with the container: a container made later under
  // the same name must not find them.
  for (const std::string& prefix : {keys::UploadsOf(name, ""), std::string(1, keys::kStagedBlock) + name + '\0'}) {
    auto staged = store_.Scan(prefix, keys::PrefixEnd(prefix), SIZE_MAX);
    if (!staged.ok()) co_return staged.status();
    for (const MetadataEntry& entry : *staged) batch.Delete(entry.key);
  }
  co_return co_await store_.Commit(std::move(batch));
}

Result<ContainerRecord> Namespace::GetContainer(std::string_view name) {
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_.Get(keys::Container(name)));
  if (!bytes) return Status::NotFound(fmt::format("container '{}' does not exist", name));
  return DecodeContainerRecord(*bytes);
}

Task<Status> Namespace::DoSetContainerMetadata(std::string name, UserMetadata metadata) {
  const std::string key = keys::Container(name);
  KeyLocks::Guard guard = co_await locks_.Exclusive(key);
  auto record = GetContainer(name);
  if (!record.ok()) co_return record.status();
  record->metadata = std::move(metadata);
  MetadataBatch batch;
  batch.Put(key, EncodeContainerRecord(*record));
  co_return co_await store_.Commit(std::move(batch));
}

Result<ContainerListing> Namespace::ListContainers(std::string_view prefix, std::string_view start_after,
                                                   size_t max_results) {
  if (max_results == 0 || max_results > kListResultsMax) {
    return Status::InvalidArgument(fmt::format("max results must be 1 to {}", kListResultsMax));
  }
  std::string from = keys::Container(prefix);
  if (!start_after.empty() && keys::Container(start_after) >= from) from = keys::Container(start_after) + '\0';
  ASSIGN_OR_RETURN(std::vector<MetadataEntry> entries,
                   store_.Scan(from, keys::ContainerPrefixEnd(prefix), max_results + 1));
  ContainerListing listing;
  for (MetadataEntry& entry : entries) {
    if (listing.containers.size() == max_results) {
      listing.truncated = true;
      listing.next_start_after = listing.containers.back().first;
      break;
    }
    ASSIGN_OR_RETURN(ContainerRecord record, DecodeContainerRecord(entry.value));
    listing.containers.emplace_back(entry.key.substr(1), std::move(record));
  }
  return listing;
}

Task<Result<std::optional<ObjectRecord>>> Namespace::DoCommitObject(std::string container, std::string name,
                                                                  ObjectRecord record, Conditions conditions) {
  CO_RETURN_IF_ERROR(ValidateObjectName(name));
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(container));
  const std::string key = keys::Object(container, name);
  KeyLocks::Guard object_guard = co_await locks_.Exclusive(key);
  CO_RETURN_IF_ERROR(ContainerExists(store_, container));
  auto current = ReadObject(store_, container, name);
  if (!current.ok()) co_return current.status();
  CO_RETURN_IF_ERROR(CheckConditions(*current, conditions));
  if (*current) record.created_unix_ns = (*current)->created_unix_ns;
  MetadataBatch batch;
  batch.Put(key, EncodeObjectRecord(record));
  const ObjectRecord* replaced = current->has_value() ? &**current : nullptr;
  CO_RETURN_IF_ERROR(co_await CommitWithAccounting(std::move(batch), &record, replaced));
  co_return std::move(*current);
}

Task<Status> Namespace::CommitWithAccounting(MetadataBatch batch, const ObjectRecord* added,
                                             const ObjectRecord* removed) {
  if (accounting_ != nullptr) accounting_->Account(added, removed, batch);
  Status status = co_await store_.Commit(std::move(batch));
  if (!status.ok() && accounting_ != nullptr) accounting_->Unaccount(added, removed);
  co_return status;
}

Result<ObjectRecord> Namespace::HeadObject(std::string_view container, std::string_view name,
                                           const Conditions& conditions) {
  ASSIGN_OR_RETURN(std::optional<ObjectRecord> current, ReadObject(store_, container, name));
  if (!current) {
    RETURN_IF_ERROR(ContainerExists(store_, container));
    return Status::NotFound(fmt::format("object '{}' does not exist in container '{}'", name, container));
  }
  RETURN_IF_ERROR(CheckConditions(current, conditions));
  return std::move(*current);
}

Task<Result<ObjectRecord>> Namespace::DoDeleteObject(std::string container, std::string name, Conditions conditions) {
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(container));
  const std::string key = keys::Object(container, name);
  KeyLocks::Guard object_guard = co_await locks_.Exclusive(key);
  auto current = ReadObject(store_, container, name);
  if (!current.ok()) co_return current.status();
  if (!*current) {
    CO_RETURN_IF_ERROR(ContainerExists(store_, container));
    co_return Status::NotFound(fmt::format("object '{}' does not exist in container '{}'", name, container));
  }
  CO_RETURN_IF_ERROR(CheckConditions(*current, conditions));
  MetadataBatch batch;
  batch.Delete(key);
  CO_RETURN_IF_ERROR(co_await CommitWithAccounting(std::move(batch), nullptr, &**current));
  co_return std::move(**current);
}

Task<Result<ObjectRecord>> Namespace::DoSetObjectProperties(std::string container, std::string name,
                                                           PropertiesUpdate update, Conditions conditions) {
  KeyLocks::Guard container_guard = co_await locks_.Shared(keys::Container(container));
  const std::string key = keys::Object(container, name);
  KeyLocks::Guard object_guard = co_await locks_.Exclusive(key);
  auto current = ReadObject(store_, container, name);
  if (!current.ok()) co_return current.status();
  if (!*current) {
    CO_RETURN_IF_ERROR(ContainerExists(store_, container));
    co_return Status::NotFound(fmt::format("object '{}' does not exist in container '{}'", name, container));
  }
  CO_RETURN_IF_ERROR(CheckConditions(*current, conditions));
  ObjectRecord record = std::move(**current);
  if (update.set_content) {
    record.content_type = std::move(update.content_type);
    record.headers = std::move(update.headers);
  }
  if (update.set_metadata) record.metadata = std::move(update.metadata);
  record.modified_unix_ns = std::max(WallClockUnixNanos(), record.modified_unix_ns);
  MetadataBatch batch;
  batch.Put(key, EncodeObjectRecord(record));  // the same pieces: nothing to account
  CO_RETURN_IF_ERROR(co_await store_.Commit(std::move(batch)));
  co_return record;
}

Result<ObjectListing> Namespace::ListObjects(std::string_view container, const ListObjectsOptions& options) {
  if (options.max_results == 0 || options.max_results > kListResultsMax) {
    return Status::InvalidArgument(fmt::format("max results must be 1 to {}", kListResultsMax));
  }
  RETURN_IF_ERROR(ContainerExists(store_, container));
  const std::string& prefix = options.prefix;
  const std::string& delimiter = options.delimiter;
  // The group (common prefix) a name rolls up into, or empty.
  const auto group_of = [&](std::string_view name) -> std::string_view {
    if (delimiter.empty() || !name.starts_with(prefix)) return {};
    const size_t at = name.find(delimiter, prefix.size());
    return at == std::string_view::npos ? std::string_view() : name.substr(0, at + delimiter.size());
  };
  // Resume after start_after; if it lies inside a group, that group was already returned.
  std::string from = keys::Object(container, prefix);
  if (!options.start_after.empty()) {
    const std::string_view group = group_of(options.start_after);
    std::string after = group.empty() ? keys::Object(container, options.start_after) + '\0'
                                      : keys::ObjectPrefixEnd(container, group);
    from = std::max(from, after);
  }
  const std::string to = keys::ObjectPrefixEnd(container, prefix);

  ObjectListing listing;
  listing.objects.reserve(std::min<size_t>(options.max_results, 1024));
  const auto results = [&] { return listing.objects.size() + listing.common_prefixes.size(); };
  bool last_was_group = false;  // which of the two lists holds the last result, for resuming
  // One pass of the store's iterator over plain names; a group (common prefix) ends the pass,
  // and the next starts past the whole group with one seek instead of stepping over its names.
  while (true) {
    std::optional<std::string> next_from;  // set when a group ends the pass
    Status decoded;
    RETURN_IF_ERROR(store_.Visit(from, to, [&](std::string_view key, std::string_view value) {
      const std::string_view name = keys::ObjectName(key, container);
      if (results() == options.max_results) {
        listing.truncated = true;
        listing.next_start_after = last_was_group ? listing.common_prefixes.back() : listing.objects.back().first;
        return false;
      }
      const std::string_view group = group_of(name);
      if (!group.empty()) {
        listing.common_prefixes.emplace_back(group);
        last_was_group = true;
        next_from = keys::ObjectPrefixEnd(container, group);
        return false;
      }
      auto record = DecodeObjectRecord(value);
      if (!record.ok()) {
        decoded = record.status();
        return false;
      }
      listing.objects.emplace_back(std::string(name), std::move(*record));
      last_was_group = false;
      return true;
    }));
    RETURN_IF_ERROR(decoded);
    if (!next_from) return listing;  // the range or the page is done
    from = std::move(*next_from);
  }
}

}  // namespace cerulean::meta
