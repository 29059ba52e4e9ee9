#include "client/shared_reads.h"

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

}  // namespace

SharedReads::SharedReads(Env& env, rpc::RpcClient& rpc, uint64_t range_bytes, size_t slots)
    : env_(env), rpc_(rpc), slot_bytes_(storage::ReadLandingBytes(range_bytes)), slots_(slots) {}

Status SharedReads::EnsureRegion() {
  if (region_ != nullptr) return Status::Ok();
  if (region_failed_) return Status::FailedPrecondition("no shared region");
  auto created = shm::SharedRegion::Create(env_.Random(), slot_bytes_ * slots_);
  if (!created.ok()) {
    LOG_INFO("client: no shared region for same-host reads, reading by TCP: {}", created.status().ToString());
    region_failed_ = true;
    return created.status();
  }
  region_ = std::move(*created);
  for (size_t slot = slots_; slot > 0; slot--) free_slots_.push_back(slot - 1);
  return Status::Ok();
}

Task<Result<bool>> SharedReads::Shares(const NetAddress& replica, Duration timeout) {
  const std::string key = replica.ToString();
  Sharing& sharing = nodes_[key];
  if (sharing != Sharing::kUnknown) co_return sharing == Sharing::kYes;
  rpc::MessageBuffer message = rpc::EncodeMessage(region_->Registration());
  auto answer = co_await rpc_.Call(replica, storage::kShmRegisterMethod, message.span(), {}, {.timeout = timeout});
  if (!answer.ok() && Unreachable(answer.status())) co_return answer.status();
  if (!answer.ok()) {
    // Another host, another pid namespace, or a node without the method: TCP it is.
    LOG_DEBUG("client: {} does not share region {:#x}: {}", key, region_->id(), answer.status().ToString());
  }
  // nodes_ may have grown meanwhile: look the entry up again.
  nodes_[key] = answer.ok() ? Sharing::kYes : Sharing::kNo;
  co_return answer.ok();
}

Task<std::optional<Status>> SharedReads::Read(const NetAddress& replica, const storage::ReadRange& range,
                                              std::span<std::byte> into, Duration timeout, uint32_t* crc) {
  if (storage::ReadLandingBytes(range.length) > slot_bytes_ || !EnsureRegion().ok()) co_return std::nullopt;
  if (free_slots_.empty()) co_return std::nullopt;
  const size_t slot = free_slots_.back();
  free_slots_.pop_back();
  struct ReturnSlot {
    std::vector<size_t>& free;
    size_t slot;
    bool lost = false;
    ~ReturnSlot() {
      if (!lost) free.push_back(slot);
    }
  } return_slot{free_slots_, slot};

  const storage::ReadSharedRequest request{
      .region = region_->id(), .ranges = {{.range = range, .at = slot * slot_bytes_, .room = slot_bytes_}}};
  rpc::MessageBuffer message = rpc::EncodeMessage(request);
  Result<rpc::CallResult> answer = Status::Unknown("not called");
  // A node that restarted has forgotten the region: register again, once.
  for (int attempt = 0; attempt < 2; attempt++) {
    Result<bool> shares = co_await Shares(replica, timeout);
    if (!shares.ok()) co_return shares.status();
    if (!*shares) co_return std::nullopt;
    answer = co_await rpc_.Call(replica, storage::kReadSharedMethod, message.span(), {}, {.timeout = timeout});
    if (answer.ok() || answer.status().code() != StatusCode::kNotFound) break;
    nodes_[replica.ToString()] = Sharing::kUnknown;
  }
  if (!answer.ok()) {
    if (answer.status().code() == StatusCode::kNotFound) {
      nodes_[replica.ToString()] = Sharing::kNo;
      co_return std::nullopt;
    }
    // The node may still be reading into the slot (a timeout, a broken connection): it is
    // never handed to another read.
    return_slot.lost = true;
    co_return answer.status();
  }
  auto response = storage::DecodeReadSharedResponse(answer->message.span());
  if (!response.ok()) co_return response.status();
  if (response->outcomes.size() != 1) co_return Status::Internal("one range asked, another number answered");
  const storage::SharedReadOutcome& outcome = response->outcomes[0];
  if (outcome.code != StatusCode::kOk) co_return Status(outcome.code, "read failed on the replica");
  if (outcome.length != range.length || into.size() != range.length) {
    co_return Status::Internal("the replica returned another length than asked");
  }
  if (!outcome.crc) co_return Status::Internal("the replica sent no CRC of the bytes it read");
  const uint64_t slot_start = slot * slot_bytes_;
  if (outcome.offset < slot_start || outcome.offset - slot_start > slot_bytes_ ||
      outcome.length > slot_bytes_ - (outcome.offset - slot_start)) {
    co_return Status::Internal("the replica placed the bytes outside the slot it was given");
  }
  const std::byte* from = region_->bytes().data() + outcome.offset;
  uint32_t copied_crc = 0;
  for (size_t done = 0; done < into.size(); done += kCopyChunkBytes) {
    const size_t chunk = std::min(kCopyChunkBytes, into.size() - done);
    copied_crc = Crc32c(from + done, chunk, copied_crc);
    std::memcpy(into.data() + done, from + done, chunk);
  }
  if (copied_crc != *outcome.crc) {
    co_return Status::DataLoss(fmt::format("bytes of extent {:016x} at {} read through shared memory fail their CRC",
                                           range.extent_id, range.record_offset));
  }
  bytes_read_ += into.size();
  if (crc != nullptr) *crc = copied_crc;
  co_return Status::Ok();
}

Task<void> SharedReads::Close() {
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
