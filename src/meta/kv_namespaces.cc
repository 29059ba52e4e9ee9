#include "meta/kv_namespaces.h"

#include <fmt/format.h>

#include "meta/meta_keys.h"

namespace cerulean::meta {
namespace {

constexpr uint8_t kFormat = 1;

std::string Encode(const kv::KvNamespaceSpec& spec) {
  rpc::MessageBuffer buffer;
  rpc::WireWriter writer(buffer);
  writer.U8(kFormat);
  kv::Encode(spec, writer);
  const auto bytes = buffer.span();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

Status KvNamespaces::Load() {
  const std::string prefix(1, keys::kKvNamespace);
  ASSIGN_OR_RETURN(std::vector<MetadataEntry> entries, store_.Scan(prefix, keys::PrefixEnd(prefix), SIZE_MAX));
  for (const MetadataEntry& entry : entries) {
    rpc::WireReader reader(std::as_bytes(std::span(entry.value.data(), entry.value.size())));
    auto format = reader.U8();
    if (!format.ok() || *format != kFormat) {
      return Status::DataLoss(fmt::format("KV namespace record {}: not format {}", entry.key, kFormat));
    }
    auto spec = kv::DecodeKvNamespaceSpec(reader);
    if (spec.ok()) {
      Status end = reader.ExpectEnd();
      if (!end.ok()) spec = end;
    }
    if (!spec.ok()) return Status::DataLoss(fmt::format("KV namespace record {}: {}", entry.key, spec.status().ToString()));
    next_id_ = std::max(next_id_, spec->id + 1);
    name_of_id_[spec->id] = spec->name;
    by_name_[spec->name] = std::move(*spec);
  }
  return Status::Ok();
}

Task<Result<kv::KvNamespaceSpec>> KvNamespaces::Open(kv::KvNamespaceSpec spec) {
  CO_RETURN_IF_ERROR(kv::ValidateKvNamespaceSpec(spec));
  while (true) {
    if (auto found = by_name_.find(spec.name); found != by_name_.end()) co_return found->second;
    auto pending = creating_.find(spec.name);
    if (pending == creating_.end()) break;
    std::shared_ptr<Event> done = pending->second;
    (void)co_await done->Wait();
  }
  if (next_id_ == UINT32_MAX) co_return Status::ResourceExhausted("no KV namespace ids left");
  spec.id = next_id_++;
  auto done = std::make_shared<Event>(env_);
  creating_[spec.name] = done;
  MetadataBatch batch;
  batch.Put(keys::KvNamespace(spec.name), Encode(spec));
  Status committed = co_await store_.Commit(std::move(batch));
  creating_.erase(spec.name);
  if (committed.ok()) {
    name_of_id_[spec.id] = spec.name;
    by_name_[spec.name] = spec;
  }
  done->Set();
  if (!committed.ok()) co_return committed;
  co_return spec;
}

Result<kv::KvNamespaceSpec> KvNamespaces::ById(uint32_t id) const {
  auto name = name_of_id_.find(id);
  if (name == name_of_id_.end()) return Status::NotFound(fmt::format("no KV namespace has id {}", id));
  return by_name_.at(name->second);
}

}  // namespace cerulean::meta
