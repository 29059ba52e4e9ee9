// KvClientCore: the KV client's protocol on its own event-loop thread (include/cerulean/
// kv_client.h): the node list from meta, rendezvous hashing of keys onto nodes, and one call
// per node per batch, all in parallel; values in shared regions move through shared memory to
// and from the nodes on this host. Single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cerulean/kv_client.h"
#include "shm/shared_region.h"
#include "kv/kv_messages.h"
#include "rpc/rpc_client.h"
#include "runtime/net_address.h"

namespace cerulean::client {

class KvClientCore {
 public:
  static Task<Result<std::unique_ptr<KvClientCore>>> Open(Env& env, const KvClientOptions& options);
  Task<void> Close();

  Task<Result<KvNamespace>> OpenNamespace(const KvNamespaceOptions& options);
  Task<std::vector<Result<KvPutResult>>> BatchPut(const KvNamespace& ns, std::span<const KvPutItem> items);
  Task<std::vector<Result<bool>>> BatchGet(const KvNamespace& ns, std::span<const KvGetItem> items);
  // Values into strings of their own, for callers that do not know their sizes (RESP).
  Task<std::vector<Result<std::optional<std::string>>>> GetOwned(const KvNamespace& ns, std::span<const KvKey> keys);
  Task<Result<std::vector<bool>>> BatchExists(const KvNamespace& ns, std::span<const KvKey> keys, bool lease);
  // Seconds left per key: -1 with no TTL, -2 when absent.
  Task<std::vector<Result<int64_t>>> TimeToLive(const KvNamespace& ns, std::span<const KvKey> keys);
  // Remove, pin, unpin or expire (ttl_s) on every replica of each key; true if any had it.
  Task<std::vector<Result<bool>>> OnEveryReplica(uint32_t method, const KvNamespace& ns, std::span<const KvKey> keys,
                                                 uint32_t ttl_s = 0);
  Task<Result<KvStats>> Stats();
  // Memory shared with the storage nodes on this host (KvClient::AllocateShared).
  Task<Result<std::span<std::byte>>> AllocateShared(size_t bytes);

 private:
  struct Node {
    std::string id;
    NetAddress address;
    uint64_t hash = 0;
    bool up = true;
    TimePoint failed_at;  // when this client last found it not answering
    // Shared regions: true once the node maps one, false if it cannot (not on this host).
    std::unordered_map<uint64_t, bool> shared;
  };
  // Per node: the indexes of the items it gets in this batch.
  using Plan = std::vector<std::vector<size_t>>;

  KvClientCore(Env& env, const KvClientOptions& options);
  Task<Status> RefreshNodes();
  // Refreshes the node list when map_refresh_every has passed (a failure is only logged).
  Task<void> RefreshIfDue();
  // After a node failed to answer: down here until meta says otherwise.
  Task<void> NodeFailed(size_t node);
  // The nodes of a key's replicas, best first (rendezvous hashing over the nodes up).
  std::vector<size_t> Replicas(const KvKey& key, size_t replicas) const;
  using PayloadLayout = std::function<std::vector<iovec>(std::span<const std::byte> message, size_t payload_bytes)>;
  Task<Result<rpc::CallResult>> CallNode(size_t node, uint32_t method, std::span<const std::byte> message,
                                         std::span<const iovec> payload = {}, std::optional<uint32_t> payload_crc = {},
                                         PayloadLayout layout = {});

  // The shared region all of these spans lie in, if one does (and, for a put, each item's pieces
  // back to back).
  template <typename Piece>
  const shm::SharedRegion* RegionOf(const std::vector<Piece>& pieces, bool contiguous) const;
  // Whether `node` maps `region`, registering it the first time.
  Task<bool> Shares(size_t node, const shm::SharedRegion& region);
  // Moves the items of `indexes` whose buffers are in a region the node maps out of `indexes`;
  // the region, or null if there are none.
  template <typename Item>
  Task<const shm::SharedRegion*> TakeShared(size_t node, std::span<const Item> items, std::vector<size_t>& indexes,
                                       std::vector<size_t>& shared);
  Task<void> PutOnNode(size_t node, uint32_t ns, std::span<const KvPutItem> items, const std::vector<size_t>& indexes,
                       std::vector<std::vector<Result<KvPutResult>>>& replies);
  // Where a found value goes: Ok, or why it could not be taken.
  using ValueSink = std::function<Status(size_t index, const kv::KvGetEntry& entry, std::span<const std::byte> value)>;
  // Asks each key's replicas in turn until one answers; a key no replica answers for is a miss.
  // `targets`, if given, are the items' buffers: values whose pieces match them are received
  // straight into them; the sink takes the rest (or everything, without targets).
  Task<std::vector<Result<bool>>> GetFromReplicas(const KvNamespace& ns, std::span<const KvKey> keys,
                                                  std::span<const uint64_t> expected_bytes,
                                                  std::span<const KvGetItem> targets, const ValueSink& sink);
  Task<void> GetFromNode(size_t node, uint32_t ns, std::span<const KvKey> keys, std::vector<size_t> indexes,
                         std::span<const KvGetItem> targets, const ValueSink& sink, std::vector<Result<bool>>& results,
                         std::vector<bool>& unreachable);
  // The same through a shared region; false if the node no longer maps it (use TCP).
  Task<bool> ShmGetFromNode(size_t node, uint32_t ns, std::span<const KvKey> keys, const std::vector<size_t>& indexes,
                            std::span<const KvGetItem> targets, const shm::SharedRegion& region,
                            std::vector<Result<bool>>& results, std::vector<bool>& unreachable);
  // Exists or ttl, from the first replica of each key that answers.
  Task<std::vector<Result<kv::KvOutcome>>> OnFirstReplica(uint32_t method, const KvNamespace& ns,
                                                          std::span<const KvKey> keys, bool lease);
  Task<void> KeysOnNode(size_t node, uint32_t method, const kv::KvKeysRequest& shape, std::span<const KvKey> keys,
                        const std::vector<size_t>& indexes, std::vector<Result<kv::KvOutcome>>& results,
                        std::vector<bool>& unreachable);

  Env& env_;
  KvClientOptions options_;
  rpc::RpcClient rpc_;
  NetAddress meta_;
  std::vector<Node> nodes_;
  TimePoint refreshed_;
  std::vector<std::unique_ptr<shm::SharedRegion>> regions_;
};

}  // namespace cerulean::client
