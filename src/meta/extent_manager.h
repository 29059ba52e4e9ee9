// ExtentManager: meta's side of the stream layer (docs/protocols/metadata.md, "Extents"). It
// creates extents on chains the cluster map picks, hands open ones to writers, seals an extent
// when a writer reports a failed append or when a replica's node goes down, checks that a
// commit's pieces are durable, and keeps the garbage accounting of every extent.
//
// Every extent's record lives in the metadata store (X keys) and in memory: there are few
// extents (one per GiB written), so start-up reads them all. Durable lengths learned from the
// replicas are soft state, cached in memory. One shard; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "meta/cluster_map.h"
#include "meta/meta_messages.h"
#include "meta/meta_records.h"
#include "meta/metadata_store.h"
#include "meta/namespace.h"
#include "rpc/rpc_client.h"
#include "runtime/event.h"
#include "runtime/task_group.h"
#include "storage/chain_client.h"

namespace cerulean::meta {

struct ExtentManagerOptions {
  // Open extents kept per kind of chain (replica count and durability), so that the pieces of
  // one object can go to several chains at once.
  size_t open_extents_per_kind = 4;
  Duration storage_timeout = std::chrono::seconds(10);
  // A sealed extent whose live bytes are below this fraction of its length is a compaction
  // candidate.
  double compaction_live_fraction = 0.5;
};

struct ExtentStats {
  uint64_t open = 0;
  uint64_t sealing = 0;
  uint64_t sealed = 0;
  uint64_t abandoned = 0;
  uint64_t committed_bytes = 0;
  uint64_t garbage_bytes = 0;
  std::vector<ExtentRecord> compaction_candidates;
};

class ExtentManager : public PieceAccounting {
 public:
  ExtentManager(Env& env, MetadataStore& store, ClusterMap& cluster, rpc::RpcClient& storage,
                ExtentManagerOptions options = {});

  // Reads every extent record and the next extent id. Call once, before anything else.
  Status Load();

  // `count` distinct open extents on chains of `replicas` nodes, creating extents as needed
  // (fewer when fewer are needed than kept open). Unavailable when too few nodes are up.
  Task<Result<std::vector<ExtentLocation>>> Writable(size_t replicas, bool durable, size_t count);
  // A writer's append to `extent_id` failed (a replica down, the extent full): no writer is
  // handed it again, from now on. Meta then seals it at the minimum durable length among its
  // reachable replicas and refills the pool of open extents, in the background: each costs a
  // synchronous metadata commit, tens of milliseconds on a disk busy with the writers' data,
  // and the writer moves on to a fresh extent without waiting for either. A seal that fails is
  // retried by Maintain. `reason` is the writer's error, for the log.
  Status ReportFailure(uint64_t extent_id, std::string_view reason);
  // No background seal or refill starts from now on (a refill attempt stops before its next
  // metadata commit): call when meta begins to stop, before the storage client closes.
  void StopBackground() { stopping_ = true; }
  // Completes when no background seal or refill is running. Call before destruction.
  Task<void> Settle();
  // Ok when every piece lies inside the durable prefix of its extent on every reachable
  // replica; Aborted when one is not (not yet, or cut by a seal: the writer writes it again),
  // InvalidArgument for an unknown extent or an impossible offset.
  Task<Status> CheckDurable(const std::vector<Piece>& pieces);
  // The replicas of an extent, for readers. NotFound for an unknown extent.
  Result<ExtentLocation> Locate(uint64_t extent_id) const;

  // One pass of upkeep: marks nodes that stopped reporting as down, seals the open extents with
  // a replica on them, and finishes seals that an unreachable chain interrupted.
  Task<void> Maintain();

  // PieceAccounting: committed and garbage bytes per extent, written in the commit's batch.
  void Account(const ObjectRecord* added, const ObjectRecord* removed, MetadataBatch& batch) override;
  void Unaccount(const ObjectRecord* added, const ObjectRecord* removed) override;

  ExtentStats Stats() const;
  const ExtentRecord* Find(uint64_t extent_id) const;

 private:
  struct Extent {
    ExtentRecord record;
    uint64_t durable_length = 0;  // the least among the replicas, as last learned
    bool handed_out = false;      // created by this run of meta for writers (else a leftover to seal)
    bool retired = false;         // out of the pools for good (failed, sealing)
    bool seal_running = false;    // sealed in the background after a reported failure
  };
  struct Kind {
    size_t replicas = 0;
    bool durable = true;
    auto operator<=>(const Kind&) const = default;
  };

  // Up to `count` extents of `kind` (at least one, else the error): one metadata commit and
  // creations on their chains at once, so that refilling a pool costs one round, not `count`.
  Task<Result<std::vector<uint64_t>>> CreateExtents(Kind kind, size_t count);
  // Creates extents until `kind`'s pool holds `count`; one creation at a time per kind.
  Task<Status> FillPool(Kind kind, size_t count);
  Task<void> SealInBackground(uint64_t extent_id);
  Task<void> Refill(Kind kind);
  Task<Status> CreateOnReplicas(const ExtentRecord& record);
  Task<Status> Seal(uint64_t extent_id);
  // True when every replica answers that it has no such extent.
  Task<bool> NoReplicaHasIt(const storage::Chain& chain, uint64_t extent_id);
  Task<Status> Persist(const ExtentRecord& record);
  Result<storage::Chain> ChainOf(const ExtentRecord& record) const;
  void Retire(uint64_t extent_id);  // out of its pool
  void AddBytes(const ObjectRecord& record, bool garbage, int64_t sign, std::map<uint64_t, bool>& touched);

  Env& env_;
  MetadataStore& store_;
  ClusterMap& cluster_;
  rpc::RpcClient& storage_;
  ExtentManagerOptions options_;
  std::map<uint64_t, Extent> extents_;
  std::map<Kind, std::vector<uint64_t>> open_;  // extents handed to writers, per kind
  std::map<Kind, std::shared_ptr<Event>> creating_;  // set when the creation in progress ends
  uint64_t next_extent_id_ = 1;
  size_t next_handout_ = 0;  // round-robin over a pool
  TaskGroup background_;     // seals and refills that follow a reported failure
  bool stopping_ = false;    // StopBackground was called
};

}  // namespace cerulean::meta
