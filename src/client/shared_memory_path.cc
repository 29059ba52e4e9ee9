#include "client/shared_memory_path.h"

#include <fmt/format.h>

#include <cstring>

#include "base/crc32c.h"
#include "base/logging.h"
#include "shm/shm_messages.h"
#include "storage/extent_store.h"

namespace cerulean::client {
namespace {

// The copy out of the region checks the CRC a chunk at a time, while the chunk is in the cache.
constexpr size_t kCopyChunkBytes = 256 * 1024;

bool Unreachable(const Status& status) {
  return status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded;
}

// A call that failed so may have had no answer from the node, which may then still be using
// the slot: it is never handed out again. (Other failures are the node's answer, sent once it
// was done with the slot.)
bool SlotMayBeInUse(const Status& status) { return Unreachable(status) || status.code() == StatusCode::kCancelled; }

}  // namespace

SharedMemoryPath::SharedMemoryPath(Env& env, rpc::RpcClient& rpc, uint64_t piece_bytes, size_t slots)
    : env_(env), rpc_(rpc), slot_bytes_(storage::ReadLandingBytes(piece_bytes)), slots_(slots) {}

std::optional<size_t> SharedMemoryPath::TakeSlot(uint64_t bytes) {
  if (bytes > slot_bytes_ || region_failed_) return std::nullopt;
  if (region_ == nullptr) {
    auto created = shm::SharedRegion::Create(env_.Random(), slot_bytes_ * slots_);
    if (!created.ok()) {
      LOG_INFO("client: no shared region for same-host transfers, using TCP: {}", created.status().ToString());
      region_failed_ = true;
      return std::nullopt;
    }
    region_ = std::move(*created);
    for (size_t slot = slots_; slot > 0; slot--) free_slots_.push_back(slot - 1);
  }
  if (free_slots_.empty()) return std::nullopt;
  const size_t slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

Task<Result<bool>> SharedMemoryPath::Shares(const NetAddress& node, Duration timeout) {
  const std::string key = node.ToString();
  const Sharing known = nodes_[key];
  if (known != Sharing::kUnknown) co_return known == Sharing::kYes;
  rpc::MessageBuffer message = rpc::EncodeMessage(region_->Registration());
  auto answer = co_await rpc_.Call(node, storage::kShmRegisterMethod, message.span(), {}, {.timeout = timeout});
  if (!answer.ok() && Unreachable(answer.status())) co_return answer.status();
  if (!answer.ok()) {
    // Another host, another pid namespace, or a node without the method: TCP it is.
    LOG_DEBUG("client: {} does not share region {:#x}: {}", key, region_->id(), answer.status().ToString());
  }
  nodes_[key] = answer.ok() ? Sharing::kYes : Sharing::kNo;
  node_caches_.erase(key);
  if (answer.ok()) {
    // The node's read cache, if it offers it: hot records are copied straight out of it.
    auto offered = shm::DecodeRegisterResponse(answer->message.span());
    if (offered.ok() && offered->bytes > 0) {
      auto mapped = shm::NodeMemory::Map(*offered, storage::kCacheMemoryNamePrefix);
      if (mapped.ok()) {
        node_caches_[key] = std::move(*mapped);
      } else {
        LOG_DEBUG("client: {}'s read cache not mapped: {}", key, mapped.status().ToString());
      }
    }
  }
  co_return answer.ok();
}

Task<std::optional<Result<rpc::CallResult>>> SharedMemoryPath::CallSharing(const NetAddress& node, uint32_t method,
                                                                           std::span<const std::byte> message,
                                                                           Duration timeout) {
  // A node in this process takes local calls, which hand the bytes over in memory already:
  // shared memory would only add a copy.
  if (rpc_.CallsLocally(node)) co_return std::nullopt;
  Result<rpc::CallResult> answer = Status::Unknown("not called");
  for (int attempt = 0; attempt < 2; attempt++) {
    Result<bool> shares = co_await Shares(node, timeout);
    if (!shares.ok()) co_return Result<rpc::CallResult>(shares.status());
    if (!*shares) co_return std::nullopt;
    answer = co_await rpc_.Call(node, method, message, {}, {.timeout = timeout});
    // A whole-call NotFound is the region's: a node that restarted has forgotten it.
    if (answer.ok() || answer.status().code() != StatusCode::kNotFound) co_return answer;
    nodes_[node.ToString()] = Sharing::kUnknown;
  }
  nodes_[node.ToString()] = Sharing::kNo;
  co_return std::nullopt;
}

bool SharedMemoryPath::CopyChecked(const std::byte* bytes, std::span<std::byte> into, uint32_t expected) {
  uint32_t copied_crc = 0;
  for (size_t done = 0; done < into.size(); done += kCopyChunkBytes) {
    const size_t chunk = std::min(kCopyChunkBytes, into.size() - done);
    std::memcpy(into.data() + done, bytes + done, chunk);
    copied_crc = Crc32c(into.data() + done, chunk, copied_crc);
  }
  return copied_crc == expected;
}

Task<std::optional<Status>> SharedMemoryPath::Read(const NetAddress& replica, const storage::ReadRange& range,
                                                   std::span<std::byte> into, Duration timeout, uint32_t* crc) {
  if (rpc_.CallsLocally(replica)) co_return std::nullopt;
  std::optional<size_t> taken = TakeSlot(storage::ReadLandingBytes(range.length));
  if (!taken) co_return std::nullopt;
  Slot slot(*this, *taken);
  Result<bool> shares = co_await Shares(replica, timeout);
  if (!shares.ok()) co_return shares.status();
  if (!*shares) co_return std::nullopt;
  // From the node's read cache if the node offered it; once more through the slot if what was
  // copied out of the cache failed its CRC (the node reused that memory meanwhile).
  const std::string key = replica.ToString();
  for (bool from_cache : {node_caches_.contains(key), false}) {
    const storage::ReadSharedRequest request{.region = region_->id(), .from_cache = from_cache,
                                             .ranges = {{.range = range, .at = slot.offset(), .room = slot_bytes_}}};
    rpc::MessageBuffer message = rpc::EncodeMessage(request);
    std::optional<Result<rpc::CallResult>> answer = co_await CallSharing(replica, storage::kReadSharedMethod,
                                                                         message.span(), timeout);
    if (!answer) co_return std::nullopt;
    if (!answer->ok()) {
      if (SlotMayBeInUse(answer->status())) slot.Lose();
      co_return answer->status();
    }
    auto response = storage::DecodeReadSharedResponse((*answer)->message.span());
    if (!response.ok()) co_return response.status();
    if (response->outcomes.size() != 1) co_return Status::Internal("one range asked, another number answered");
    const storage::SharedReadOutcome& outcome = response->outcomes[0];
    if (outcome.code != StatusCode::kOk) co_return Status(outcome.code, "read failed on the replica");
    if (outcome.length != range.length || into.size() != range.length) {
      co_return Status::Internal("the replica returned another length than asked");
    }
    if (outcome.in_cache) {
      auto cache = node_caches_.find(key);
      const std::byte* from = cache == node_caches_.end() ? nullptr : cache->second->At(outcome.offset, outcome.length);
      if (from != nullptr && CopyChecked(from, into, outcome.crc)) {
        if (crc != nullptr) *crc = outcome.crc;
        co_return Status::Ok();
      }
      LOG_DEBUG("client: a read of extent {:016x} out of {}'s read cache failed its CRC; reading it again",
                range.extent_id, key);
      continue;
    }
    if (outcome.offset < slot.offset() || outcome.offset - slot.offset() > slot_bytes_ ||
        outcome.length > slot_bytes_ - (outcome.offset - slot.offset())) {
      co_return Status::Internal("the replica placed the bytes outside the slot it was given");
    }
    if (!CopyChecked(region_->bytes().data() + outcome.offset, into, outcome.crc)) {
      co_return Status::DataLoss(fmt::format("bytes of extent {:016x} at {} read through shared memory fail their CRC",
                                             range.extent_id, range.record_offset));
    }
    if (crc != nullptr) *crc = outcome.crc;
    co_return Status::Ok();
  }
  co_return Status::DataLoss(fmt::format("bytes of extent {:016x} at {} read out of a node's cache fail their CRC twice",
                                         range.extent_id, range.record_offset));
}

Task<std::optional<Result<storage::AppendResponse>>> SharedMemoryPath::Append(
    const storage::Chain& chain, uint64_t extent_id, std::span<const std::byte> data, storage::OwnerId owner,
    std::optional<uint32_t>& crc, Duration timeout) {
  if (chain.replicas.empty() || chain.replicas.size() > storage::kChainLengthMax) co_return std::nullopt;
  std::optional<size_t> taken = TakeSlot(storage::RoundUpToBlock(data.size()));
  if (!taken) co_return std::nullopt;
  Slot slot(*this, *taken);
  // The node checks the slot's bytes against `crc` as it computes the record's checksums.
  // Computed here, it is the CRC of the caller's bytes (a chunk at a time, copied while cached),
  // so that a copy gone wrong is caught too.
  if (crc) {
    if (!data.empty()) std::memcpy(slot.data(), data.data(), data.size());
  } else {
    uint32_t data_crc = 0;
    for (size_t done = 0; done < data.size(); done += kCopyChunkBytes) {
      const size_t chunk = std::min(kCopyChunkBytes, data.size() - done);
      data_crc = Crc32c(data.data() + done, chunk, data_crc);
      std::memcpy(slot.data() + done, data.data() + done, chunk);
    }
    crc = data_crc;
  }
  storage::AppendSharedRequest request{.append = {.extent_id = extent_id, .chain_version = chain.version, .owner = owner},
                                       .region = region_->id(), .at = slot.offset(), .bytes = data.size(),
                                       .room = slot_bytes_, .payload_crc = *crc};
  for (size_t i = 1; i < chain.replicas.size(); i++) request.append.successors.push_back(chain.replicas[i].ToString());
  rpc::MessageBuffer message = rpc::EncodeMessage(request);
  std::optional<Result<rpc::CallResult>> answer = co_await CallSharing(chain.replicas[0], storage::kAppendSharedMethod,
                                                                       message.span(), timeout);
  if (!answer) co_return std::nullopt;
  if (!answer->ok()) {
    if (SlotMayBeInUse(answer->status())) slot.Lose();
    co_return Result<storage::AppendResponse>(answer->status());
  }
  co_return storage::DecodeAppendResponse((*answer)->message.span());
}

Task<void> SharedMemoryPath::Close() {
  if (region_ == nullptr) co_return;
  for (const auto& [address, sharing] : nodes_) {
    if (sharing != Sharing::kYes) continue;
    auto parsed = NetAddress::Parse(address);
    if (!parsed.ok()) continue;
    rpc::MessageBuffer message = rpc::EncodeMessage(shm::UnregisterRequest{.region = region_->id()});
    auto answer = co_await rpc_.Call(*parsed, storage::kShmUnregisterMethod, message.span(), {},
                                     {.timeout = std::chrono::seconds(1)});
    if (!answer.ok()) LOG_DEBUG("client: shared region not unregistered from {}: {}", address, answer.status().ToString());
  }
}

}  // namespace cerulean::client
