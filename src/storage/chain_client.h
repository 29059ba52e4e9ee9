// The client's side of chain replication over a static chain (meta will hand chains out in a
// later issue): create an extent on every replica, append through the head, seal at the minimum
// durable length, read from any replica. docs/protocols/chain_replication.md. Single loop.
#pragma once

#include <optional>
#include <vector>

#include "rpc/rpc_client.h"
#include "storage/storage_messages.h"

namespace cerulean::storage {

struct Chain {
  uint64_t version = 0;
  std::vector<NetAddress> replicas;  // head first
};

// Creates the extent on every replica; fails if any replica fails.
Task<Status> CreateExtentOnChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id,
                                 Durability durability, Duration timeout);
// Appends through the head; Ok only once every replica holds the record durably. `payload_crc`,
// if the caller has computed the payload's CRC32C already, saves the rpc layer another pass.
Task<Result<AppendResponse>> AppendToChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id,
                                           std::span<const iovec> payload, OwnerId owner, Duration timeout,
                                           std::optional<uint32_t> payload_crc = std::nullopt);
// Sealing, in two steps so that a sealer can record its decision before acting on it: a retry
// must reuse the decided length, never choose again from another set of reachable replicas.
//
// The length to seal at: one that a reachable replica is already sealed at (an earlier
// decision), else the minimum length among the reachable replicas, each frozen first (it takes
// no new appends and lets those it accepted land: ExtentStore::Freeze), so that no append any
// replica acknowledges falls past the chosen length. Unavailable if none answers.
Task<Result<uint64_t>> ChooseSealLength(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout);
// The minimum committed length among the reachable replicas of an open extent, which goes on
// taking appends (a sealed replica's length if one is sealed): every append acknowledged before
// the call lies within it. Unavailable if none answers.
Task<Result<uint64_t>> DurableLength(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout);
// Seals every reachable replica at `length`. Unavailable if none answers; a replica shorter
// than `length` fails it (it waits for re-replication).
Task<Status> SealChainAt(rpc::RpcClient& client, Chain chain, uint64_t extent_id, uint64_t length, Duration timeout);
// Both, for a sealer that need not retry; returns the sealed length.
Task<Result<uint64_t>> SealChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout);

// Re-replication: makes `target` copy the extent up to `length` from `source`, verifying every
// record, and seal it there if `seal`.
Task<Status> ReplicateExtent(rpc::RpcClient& client, NetAddress target, NetAddress source, uint64_t extent_id,
                             uint64_t length, bool seal, Duration timeout);
// One range from one replica into `into` (which must hold `range.length` bytes). With
// `crc`, sets it to the CRC32C of the bytes read (checked on arrival, so no second pass).
Task<Status> ReadFromReplica(rpc::RpcClient& client, NetAddress replica, ReadRange range,
                             std::span<std::byte> into, Duration timeout, uint32_t* crc = nullptr);

}  // namespace cerulean::storage
