// KvNamespaces: meta's registry of KV-cache namespaces (docs/protocols/kv_cache.md): each name
// gets a 32-bit id once, kept in the metadata store under K<name>. Clients open a namespace by
// name before using it; storage nodes ask for one by id the first time they see it. Nothing on
// the data path asks meta. Single-threaded, on meta's shard.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "kv/kv_messages.h"
#include "meta/metadata_store.h"
#include "runtime/event.h"

namespace cerulean::meta {

class KvNamespaces {
 public:
  KvNamespaces(Env& env, MetadataStore& store) : env_(env), store_(store) {}
  // Reads the namespaces kept in the store.
  Status Load();
  // The namespace of this name, created with these settings if it does not exist yet (an
  // existing one keeps its own settings).
  Task<Result<kv::KvNamespaceSpec>> Open(kv::KvNamespaceSpec spec);
  Result<kv::KvNamespaceSpec> ById(uint32_t id) const;
  size_t size() const { return by_name_.size(); }

 private:
  Env& env_;
  MetadataStore& store_;
  std::map<std::string, kv::KvNamespaceSpec> by_name_;
  std::unordered_map<uint32_t, std::string> name_of_id_;
  uint32_t next_id_ = 1;
  // Names being written now; a second Open of one waits for the first.
  std::unordered_map<std::string, std::shared_ptr<Event>> creating_;
};

}  // namespace cerulean::meta
