// The native C++ client of Cerulean's KV cache (docs/protocols/kv_cache.md): batched,
// put-if-absent storage of immutable KV-cache blocks keyed by prefix-hash digests.
//
//   auto kv = cerulean::KvClient::Open({.meta_address = "127.0.0.1:7400"});
//   auto ns = (*kv)->OpenNamespace({.model = "llama-3-8b", .dtype = "bf16", .tp_rank = 0});
//   auto keys = cerulean::KvPrefixHasher("llama-3-8b").Keys(tokens, 16);
//   size_t cached = *(*kv)->LookupPrefix(*ns, keys);
//   (*kv)->BatchGet(*ns, gets);   // the cached prefix, scattered into per-piece buffers
//   (*kv)->BatchPut(*ns, puts);   // the rest
//
// Keys are hashed onto storage nodes by the client (rendezvous hashing over the nodes that are
// up), so no call on the data path goes to meta; each batch is one call per node, all in
// parallel. With one replica (the default: a cache can be recomputed) entries on a lost node
// are misses, not errors; with two or three they are still hits.
//
// Thread-safe: calls run on the client's own event-loop thread and the methods wait for them;
// the *Async methods return a std::future instead, so that one caller thread can keep many
// batches in flight (an inference server's event loop does; threads per batch cost switches).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "kv/kv_key.h"

namespace cerulean {

using KvKey = kv::KvKey;
using KvPrefixHasher = kv::PrefixHasher;

struct KvClientOptions {
  std::string meta_address = "127.0.0.1:7400";
  std::chrono::milliseconds timeout{10'000};
  // The node list is asked of meta again at most this often, when a node fails to answer.
  std::chrono::milliseconds map_refresh_min{500};
  // ... and at least this often, so that new and recovered nodes come into use.
  std::chrono::milliseconds map_refresh_every{5000};
  // How long the client's thread spins for responses before it sleeps (see
  // ClientOptions::poll_before_sleep). 0, the default, sleeps at once.
  std::chrono::microseconds poll_before_sleep{0};
};

// {model, dtype, layout, tp/pp rank, tenant}, and the settings used if the namespace is new.
struct KvNamespaceOptions {
  std::string model;
  std::string dtype;
  std::string layout;
  uint32_t tp_rank = 0;
  uint32_t pp_rank = 0;
  std::string tenant;
  uint8_t replicas = 1;
  uint64_t quota_bytes = 0;  // 0: none
  uint32_t value_bytes_max = 64u << 20;
  uint32_t pieces_max = 4096;
  uint32_t default_ttl_s = 0;
};

struct KvNamespace {
  uint32_t id = 0;
  std::string name;
  uint8_t replicas = 1;
  uint64_t quota_bytes = 0;
  uint32_t value_bytes_max = 0;
  uint32_t default_ttl_s = 0;
};

struct KvPutItem {
  KvKey key;
  std::vector<std::span<const std::byte>> pieces;  // the value, piece by piece
  uint32_t ttl_s = 0;                               // 0: the namespace's default
  bool pin = false;
};

// Where a value goes: one buffer per piece, each of exactly that piece's size.
struct KvGetItem {
  KvKey key;
  std::vector<std::span<std::byte>> pieces;
};

enum class KvPutResult { kStored, kAlreadyPresent };

struct KvStats {
  uint64_t nodes = 0;
  uint64_t entries = 0;
  uint64_t dram_capacity_bytes = 0;
  uint64_t dram_used_bytes = 0;
  uint64_t live_value_bytes = 0;
  uint64_t index_bytes = 0;
  uint64_t gets = 0, hits = 0, puts = 0, stored = 0, evicted = 0, expired = 0;
  uint64_t ssd_capacity_bytes = 0, ssd_used_bytes = 0;
  // SSD hits are counted in hits too; evicted counts entries that left the cache from DRAM,
  // demoted those that went to the SSD tier instead, ssd_evicted those that left from SSD.
  uint64_t ssd_hits = 0, demoted = 0, promoted = 0, ssd_evicted = 0;
  // Same-host shared memory: regions the nodes map, and value bytes moved through them.
  uint64_t shm_regions = 0, shm_bytes = 0;
};

namespace client {
class KvClientCore;
}

class KvClient {
 public:
  static Result<std::unique_ptr<KvClient>> Open(KvClientOptions options);
  ~KvClient();
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;

  // The namespace of these options, created on first use. InvalidArgument for a bad name part.
  Result<KvNamespace> OpenNamespace(const KvNamespaceOptions& options);

  // Put-if-absent, one result per item. An entry is visible only once complete.
  std::vector<Result<KvPutResult>> BatchPut(const KvNamespace& ns, std::span<const KvPutItem> items);
  // One result per item: true when found (and scattered into its buffers), false on a miss.
  // InvalidArgument when the buffers do not match the stored pieces.
  std::vector<Result<bool>> BatchGet(const KvNamespace& ns, std::span<const KvGetItem> items);
  // The same, started at once; `ns`, `items` and the memory they name must stay valid, and the
  // buffers untouched, until the future is ready.
  std::future<std::vector<Result<KvPutResult>>> BatchPutAsync(const KvNamespace& ns, std::span<const KvPutItem> items);
  std::future<std::vector<Result<bool>>> BatchGetAsync(const KvNamespace& ns, std::span<const KvGetItem> items);
  // The same, with `done` called on the client's own thread as soon as the batch is over, for
  // callers that run their own event loop: it must not block or call back into this client
  // (hand the results to a thread of yours).
  void BatchPutAsync(const KvNamespace& ns, std::span<const KvPutItem> items,
                     std::function<void(std::vector<Result<KvPutResult>>)> done);
  void BatchGetAsync(const KvNamespace& ns, std::span<const KvGetItem> items,
                     std::function<void(std::vector<Result<bool>>)> done);
  // Presence of each key; with `lease`, what is found is kept from eviction for a while.
  Result<std::vector<bool>> BatchExists(const KvNamespace& ns, std::span<const KvKey> keys, bool lease = false);
  // How many keys, from the first, are present: the longest cached prefix.
  Result<size_t> LookupPrefix(const KvNamespace& ns, std::span<const KvKey> keys, bool lease = false);
  // One result per key: whether it was present.
  std::vector<Result<bool>> Remove(const KvNamespace& ns, std::span<const KvKey> keys);
  std::vector<Result<bool>> Pin(const KvNamespace& ns, std::span<const KvKey> keys);
  std::vector<Result<bool>> Unpin(const KvNamespace& ns, std::span<const KvKey> keys);
  // Summed over the storage nodes that answer.
  Result<KvStats> Stats();

  // Same-host fast path: `bytes` of memory shared with the storage nodes on this host (a
  // memfd each node maps once, as 3FS's USRBIO and Mooncake's local client do), valid for the
  // client's life. A get whose piece buffers all lie in it is copied there by the node, and a
  // put whose value lies in it (its pieces back to back) is copied out of it by the node: one
  // memcpy, no socket. Nodes on other hosts, and other items, use TCP as before.
  Result<std::span<std::byte>> AllocateShared(size_t bytes);

 private:
  class Impl;
  explicit KvClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "<tenant>/<model>/<dtype>/<layout>/tp<r>/pp<r>", or InvalidArgument naming the bad part.
Result<std::string> KvNamespaceName(const KvNamespaceOptions& options);

}  // namespace cerulean
