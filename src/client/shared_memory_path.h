// SharedMemoryPath: the same-host path of a client's object reads and appends
// (docs/protocols/storage_service.md, "Same-host reads and appends"). The client shares one memfd
// region (shm/shared_region.h) with the storage nodes on its host, cut into slots of one piece
// each. A read borrows a slot: the node reads the record from its disk straight into it
// (O_DIRECT: no CPU copy) and verifies it there, and the client copies the bytes into the
// caller's buffer, checking their CRC32C on the way. A record that is, or is being put, in the
// node's read cache is instead copied by the client straight out of the cache, which it maps
// read-only (shm/node_memory.h). An append borrows one too: the client
// copies the piece into it, and the chain's head writes it to disk (and sends it down the chain)
// from there, checking it against the client's CRC. No socket carries those bytes to or from a
// node on this host. A node on another host, or one that cannot map the region, answers the
// registration with an error, and its reads and appends go by TCP as before. Single loop (the
// client's shard).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "rpc/rpc_client.h"
#include "runtime/env.h"
#include "runtime/net_address.h"
#include "shm/node_memory.h"
#include "shm/shared_region.h"
#include "storage/chain_client.h"
#include "storage/storage_messages.h"

namespace cerulean::client {

class SharedMemoryPath {
 public:
  // Slots enough for `slots` transfers of up to `piece_bytes` bytes each; the region is made
  // at the first transfer.
  SharedMemoryPath(Env& env, rpc::RpcClient& rpc, uint64_t piece_bytes, size_t slots);

  // Reads `range` from `replica` into `into` (range.length bytes) through the shared region.
  // Nothing when this read cannot go that way (a node that does not share the region, every
  // slot busy, a range larger than a slot): the caller reads by TCP instead. Otherwise the
  // read's status, and in *crc the CRC32C of the bytes, checked against the copy.
  Task<std::optional<Status>> Read(const NetAddress& replica, const storage::ReadRange& range,
                                   std::span<std::byte> into, Duration timeout, uint32_t* crc);
  // Appends `data` to the extent on `chain` through the shared region, as
  // storage::AppendToChain does by TCP. `crc` is the data's CRC32C if known; if not, it is
  // computed as the data is copied into the region (each chunk's CRC, then its copy from the
  // cache: one pass over the caller's memory, not two) and set. Nothing when the head does not share the region, no slot is free or the data
  // is larger than a slot: the caller appends by TCP instead.
  Task<std::optional<Result<storage::AppendResponse>>> Append(const storage::Chain& chain, uint64_t extent_id,
                                                               std::span<const std::byte> data, storage::OwnerId owner,
                                                               std::optional<uint32_t>& crc, Duration timeout);
  // Unregisters the region from the nodes that mapped it (they would unmap it once this
  // process exits; this frees it now).
  Task<void> Close();

 private:
  enum class Sharing { kUnknown, kYes, kNo };
  // A slot of the region, returned to the free list when this goes away unless lost (a call
  // that failed without an answer: the node may still be using the slot).
  class Slot {
   public:
    Slot(SharedMemoryPath& path, size_t index) : path_(path), index_(index) {}
    ~Slot() {
      if (!lost_) path_.free_slots_.push_back(index_);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    uint64_t offset() const { return index_ * path_.slot_bytes_; }
    std::byte* data() const { return path_.region_->bytes().data() + offset(); }
    void Lose() { lost_ = true; }

   private:
    SharedMemoryPath& path_;
    size_t index_;
    bool lost_ = false;
  };

  // Copies `bytes` out of shared memory into `into`, a chunk at a time, and checks the CRC of
  // what was copied (after the copy: the source may change under it) against `expected`.
  static bool CopyChecked(const std::byte* bytes, std::span<std::byte> into, uint32_t expected);
  // A free slot for `bytes` of room, if the region exists (or can be made) and one is free.
  std::optional<size_t> TakeSlot(uint64_t bytes);
  // Registers the region with `node` unless that was settled: Ok and true when it shares it,
  // false when it cannot (TCP then), an error when the node did not answer.
  Task<Result<bool>> Shares(const NetAddress& node, Duration timeout);
  // Calls `method` on `node`, registering the region first and, if the node has forgotten it
  // (it restarted), once more after registering again. Nothing when the node does not share it.
  Task<std::optional<Result<rpc::CallResult>>> CallSharing(const NetAddress& node, uint32_t method,
                                                           std::span<const std::byte> message, Duration timeout);

  Env& env_;
  rpc::RpcClient& rpc_;
  uint64_t slot_bytes_;
  size_t slots_;
  std::unique_ptr<shm::SharedRegion> region_;
  bool region_failed_ = false;
  std::vector<size_t> free_slots_;  // LIFO: the slots whose pages are already faulted in first
  std::map<std::string, Sharing> nodes_;
  // The read caches of the nodes that offered theirs (mapped read-only at registration).
  std::map<std::string, std::unique_ptr<shm::NodeMemory>> node_caches_;
};

}  // namespace cerulean::client
