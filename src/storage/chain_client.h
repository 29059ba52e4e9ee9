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
// Appends through the head; Ok only once every replica holds the record durably.
Task<Result<AppendResponse>> AppendToChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id,
                                           std::span<const iovec> payload, OwnerId owner, Duration timeout);
// Seals the extent on every reachable replica and returns the sealed length. The length is
// `decided_length` if the caller already chose one (a retry must never pick another), else a
// length some reachable replica is already sealed at, else the minimum among the reachable
// replicas. Unavailable if no replica answers. A replica shorter than the length (it missed
// records that the others hold) fails the seal: it waits for re-replication.
Task<Result<uint64_t>> SealChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout,
                                 std::optional<uint64_t> decided_length = std::nullopt);
// One range from one replica into `into` (which must hold `range.length` bytes).
Task<Status> ReadFromReplica(rpc::RpcClient& client, NetAddress replica, ReadRange range,
                             std::span<std::byte> into, Duration timeout);

}  // namespace cerulean::storage
