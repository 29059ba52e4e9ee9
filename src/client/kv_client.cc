// The KV client (include/cerulean/kv_client.h): the public methods wait on the client's own
// shard, where KvClientCore runs the protocol.
#include "cerulean/kv_client.h"

#include <fmt/format.h>

#include "client/core_on_shard.h"
#include "client/kv_client_core.h"

namespace cerulean {

using client::KvClientCore;

class KvClient::Impl : public client::CoreOnShard<KvClientCore, KvClientOptions> {
 public:
  using CoreOnShard::CoreOnShard;
};

KvClient::KvClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KvClient::~KvClient() {
  if (impl_->core != nullptr) {
    impl_->shards.RunAndWait<int>(0, [this](Env&) -> Task<int> {
      co_await impl_->core->Close();
      impl_->core.reset();
      co_return 0;
    });
  }
  impl_->shards.Stop();
}

Result<std::unique_ptr<KvClient>> KvClient::Open(KvClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  Impl* raw = impl.get();
  Status opened = raw->shards.RunAndWait<Status>(0, [raw](Env& env) -> Task<Status> {
    auto core = co_await KvClientCore::Open(env, raw->options);
    if (!core.ok()) co_return core.status();
    raw->core = std::move(*core);
    co_return Status::Ok();
  });
  if (!opened.ok()) {
    raw->shards.Stop();
    return opened;
  }
  return std::unique_ptr<KvClient>(new KvClient(std::move(impl)));
}

Result<KvNamespace> KvClient::OpenNamespace(const KvNamespaceOptions& options) {
  return impl_->Run<Result<KvNamespace>>([&](KvClientCore& core) { return core.OpenNamespace(options); });
}

std::vector<Result<KvPutResult>> KvClient::BatchPut(const KvNamespace& ns, std::span<const KvPutItem> items) {
  return impl_->Run<std::vector<Result<KvPutResult>>>([&](KvClientCore& core) { return core.BatchPut(ns, items); });
}

std::future<std::vector<Result<KvPutResult>>> KvClient::BatchPutAsync(const KvNamespace& ns,
                                                                     std::span<const KvPutItem> items) {
  return impl_->Start<std::vector<Result<KvPutResult>>>(
      [&ns, items](KvClientCore& core) { return core.BatchPut(ns, items); });
}

std::future<std::vector<Result<bool>>> KvClient::BatchGetAsync(const KvNamespace& ns, std::span<const KvGetItem> items) {
  return impl_->Start<std::vector<Result<bool>>>([&ns, items](KvClientCore& core) { return core.BatchGet(ns, items); });
}

void KvClient::BatchPutAsync(const KvNamespace& ns, std::span<const KvPutItem> items,
                             std::function<void(std::vector<Result<KvPutResult>>)> done) {
  impl_->StartThen<std::vector<Result<KvPutResult>>>(
      [&ns, items](KvClientCore& core) { return core.BatchPut(ns, items); }, std::move(done));
}

void KvClient::BatchGetAsync(const KvNamespace& ns, std::span<const KvGetItem> items,
                             std::function<void(std::vector<Result<bool>>)> done) {
  impl_->StartThen<std::vector<Result<bool>>>([&ns, items](KvClientCore& core) { return core.BatchGet(ns, items); },
                                              std::move(done));
}

std::vector<Result<bool>> KvClient::BatchGet(const KvNamespace& ns, std::span<const KvGetItem> items) {
  return impl_->Run<std::vector<Result<bool>>>([&](KvClientCore& core) { return core.BatchGet(ns, items); });
}

Result<std::vector<bool>> KvClient::BatchExists(const KvNamespace& ns, std::span<const KvKey> keys, bool lease) {
  return impl_->Run<Result<std::vector<bool>>>([&](KvClientCore& core) { return core.BatchExists(ns, keys, lease); });
}

Result<size_t> KvClient::LookupPrefix(const KvNamespace& ns, std::span<const KvKey> keys, bool lease) {
  ASSIGN_OR_RETURN(std::vector<bool> present, BatchExists(ns, keys, lease));
  size_t prefix = 0;
  while (prefix < present.size() && present[prefix]) prefix++;
  return prefix;
}

std::vector<Result<bool>> KvClient::Remove(const KvNamespace& ns, std::span<const KvKey> keys) {
  return impl_->Run<std::vector<Result<bool>>>(
      [&](KvClientCore& core) { return core.OnEveryReplica(kv::kKvRemoveMethod, ns, keys); });
}

std::vector<Result<bool>> KvClient::Pin(const KvNamespace& ns, std::span<const KvKey> keys) {
  return impl_->Run<std::vector<Result<bool>>>(
      [&](KvClientCore& core) { return core.OnEveryReplica(kv::kKvPinMethod, ns, keys); });
}

std::vector<Result<bool>> KvClient::Unpin(const KvNamespace& ns, std::span<const KvKey> keys) {
  return impl_->Run<std::vector<Result<bool>>>(
      [&](KvClientCore& core) { return core.OnEveryReplica(kv::kKvUnpinMethod, ns, keys); });
}

Result<std::span<std::byte>> KvClient::AllocateShared(size_t bytes) {
  return impl_->Run<Result<std::span<std::byte>>>([&](KvClientCore& core) { return core.AllocateShared(bytes); });
}

Result<KvStats> KvClient::Stats() {
  return impl_->Run<Result<KvStats>>([&](KvClientCore& core) { return core.Stats(); });
}

Result<std::string> KvNamespaceName(const KvNamespaceOptions& options) {
  const auto check = [](std::string_view part, std::string_view what, bool may_be_empty) -> Status {
    if (part.empty() && !may_be_empty) return Status::InvalidArgument(fmt::format("a KV namespace needs a {}", what));
    if (part.size() > 128) return Status::InvalidArgument(fmt::format("the KV namespace's {} is over 128 bytes", what));
    for (char c : part) {
      if (c < 0x21 || c > 0x7e || c == '/') {
        return Status::InvalidArgument(
            fmt::format("the KV namespace's {} '{}' has a character other than printable ASCII without '/'", what, part));
      }
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(check(options.tenant, "tenant", true));
  RETURN_IF_ERROR(check(options.model, "model", false));
  RETURN_IF_ERROR(check(options.dtype, "dtype", false));
  RETURN_IF_ERROR(check(options.layout, "layout", true));
  return fmt::format("{}/{}/{}/{}/tp{}/pp{}", options.tenant, options.model, options.dtype, options.layout,
                     options.tp_rank, options.pp_rank);
}

}  // namespace cerulean
