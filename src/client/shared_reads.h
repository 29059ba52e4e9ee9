// SharedReads: the same-host path of a client's object reads (docs/protocols/storage_service.md,
// "Reads into shared memory"). The client shares one memfd region (shm/shared_region.h) with the
// storage nodes on its host, cut into slots of one piece's read each. A read borrows a slot; the
// node reads the record from its disk straight into the slot (O_DIRECT: no CPU copy) and verifies
// it there; the client then copies the bytes into the caller's buffer, checking their CRC32C
// on the way. No socket carries them: a node on another host, or one that cannot map the region,
// answers the registration with an error, and reads from it go by TCP as before. Single loop
// (the client's shard).
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
#include "shm/shared_region.h"
#include "storage/storage_messages.h"

namespace cerulean::client {

class SharedReads {
 public:
  // Slots enough for `slots` reads of up to `range_bytes` bytes each; the region is made at the
  // first read.
  SharedReads(Env& env, rpc::RpcClient& rpc, uint64_t range_bytes, size_t slots);

  // Reads `range` from `replica` into `into` (range.length bytes) through the shared region.
  // Nothing when this read cannot go that way (a node that does not share the region, every
  // slot busy, a range larger than a slot): the caller reads by TCP instead. Otherwise the
  // read's status, and in *crc the CRC32C of the bytes, checked against the copy.
  Task<std::optional<Status>> Read(const NetAddress& replica, const storage::ReadRange& range,
                                   std::span<std::byte> into, Duration timeout, uint32_t* crc);
  // Unregisters the region from the nodes that mapped it (they would unmap it once this
  // process exits; this frees it now).
  Task<void> Close();

  // Bytes that came through the region, for tests and stats.
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  enum class Sharing { kUnknown, kYes, kNo };
  // Registers the region with `replica` unless that was settled: Ok and true when it shares
  // it, false when it cannot (reads go by TCP), an error when the node did not answer.
  Task<Result<bool>> Shares(const NetAddress& replica, Duration timeout);
  Status EnsureRegion();

  Env& env_;
  rpc::RpcClient& rpc_;
  uint64_t slot_bytes_;
  size_t slots_;
  std::unique_ptr<shm::SharedRegion> region_;
  std::vector<size_t> free_slots_;  // LIFO: the slots whose pages are already faulted in first
  std::map<std::string, Sharing> nodes_;
  bool region_failed_ = false;
  uint64_t bytes_read_ = 0;
};

}  // namespace cerulean::client
