#include "storage/chain_client.h"

#include <fmt/format.h>

#include "runtime/when_all.h"

namespace cerulean::storage {
namespace {

Task<Result<rpc::CallResult>> CallOne(rpc::RpcClient& client, NetAddress peer, uint32_t method,
                                      std::span<const std::byte> message, Duration timeout) {
  co_return co_await client.Call(std::move(peer), method, message, {}, {.timeout = timeout});
}

// The least length among the replicas that answer `method` (an ExtentRequest answered with an
// ExtentLengthResponse), or a sealed replica's length.
Task<Result<uint64_t>> LeastLength(rpc::RpcClient& client, Chain chain, uint64_t extent_id, uint32_t method,
                                   Duration timeout) {
  rpc::MessageBuffer query = rpc::EncodeMessage(ExtentRequest{.extent_id = extent_id});
  std::vector<Task<Result<rpc::CallResult>>> calls;
  for (const NetAddress& replica : chain.replicas) calls.push_back(CallOne(client, replica, method, query.span(), timeout));
  auto lengths = co_await WhenAll(std::move(calls));
  std::optional<uint64_t> minimum;
  for (auto& answer : lengths) {
    if (!answer.ok()) continue;
    auto decoded = DecodeExtentLengthResponse(answer->message.span());
    if (!decoded.ok()) continue;
    if (decoded->sealed) co_return decoded->length;  // an earlier decision stands
    minimum = std::min(minimum.value_or(UINT64_MAX), decoded->length);
  }
  if (!minimum) co_return Status::Unavailable(fmt::format("no replica of extent {:016x} answered", extent_id));
  co_return *minimum;
}

}  // namespace

Task<Status> CreateExtentOnChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Durability durability,
                                 Duration timeout) {
  if (chain.replicas.empty() || chain.replicas.size() > kChainLengthMax) {
    co_return Status::InvalidArgument(fmt::format("a chain has 1 to {} replicas", kChainLengthMax));
  }
  rpc::MessageBuffer message = rpc::EncodeMessage(
      CreateExtentRequest{.extent_id = extent_id, .durability = durability, .chain_version = chain.version});
  std::vector<Task<Result<rpc::CallResult>>> calls;
  for (const NetAddress& replica : chain.replicas) {
    calls.push_back(CallOne(client, replica, kCreateExtentMethod, message.span(), timeout));
  }
  auto results = co_await WhenAll(std::move(calls));
  for (size_t i = 0; i < results.size(); i++) {
    if (!results[i].ok()) {
      co_return Status(results[i].status().code(), fmt::format("create extent {:016x} on {}: {}", extent_id,
                                                               chain.replicas[i].ToString(),
                                                               results[i].status().message()));
    }
  }
  co_return Status::Ok();
}

Task<Result<AppendResponse>> AppendToChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id,
                                           std::span<const iovec> payload, OwnerId owner, Duration timeout,
                                           std::optional<uint32_t> payload_crc) {
  if (chain.replicas.empty() || chain.replicas.size() > kChainLengthMax) {
    co_return Status::InvalidArgument(fmt::format("a chain has 1 to {} replicas", kChainLengthMax));
  }
  AppendRequest request{.extent_id = extent_id, .chain_version = chain.version, .owner = owner};
  for (size_t i = 1; i < chain.replicas.size(); i++) request.successors.push_back(chain.replicas[i].ToString());
  rpc::MessageBuffer message = rpc::EncodeMessage(request);
  auto result = co_await client.Call(chain.replicas[0], kAppendMethod, message.span(), payload,
                                     {.timeout = timeout, .payload_crc = payload_crc});
  if (!result.ok()) co_return result.status();
  co_return DecodeAppendResponse(result->message.span());
}

Task<Result<uint64_t>> ChooseSealLength(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout) {
  co_return co_await LeastLength(client, std::move(chain), extent_id, kFreezeExtentMethod, timeout);
}

Task<Result<uint64_t>> DurableLength(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout) {
  co_return co_await LeastLength(client, std::move(chain), extent_id, kExtentLengthMethod, timeout);
}

Task<Status> SealChainAt(rpc::RpcClient& client, Chain chain, uint64_t extent_id, uint64_t length, Duration timeout) {
  rpc::MessageBuffer seal = rpc::EncodeMessage(SealRequest{.extent_id = extent_id, .length = length});
  std::vector<Task<Result<rpc::CallResult>>> seals;
  for (const NetAddress& replica : chain.replicas) seals.push_back(CallOne(client, replica, kSealMethod, seal.span(), timeout));
  auto sealed = co_await WhenAll(std::move(seals));
  bool any_reached = false;
  for (size_t i = 0; i < sealed.size(); i++) {
    const StatusCode code = sealed[i].ok() ? StatusCode::kOk : sealed[i].status().code();
    if (code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded) continue;  // unreachable
    any_reached = true;
    if (code != StatusCode::kOk) {
      co_return Status(code, fmt::format("seal extent {:016x} on {}: {}", extent_id, chain.replicas[i].ToString(),
                                         sealed[i].status().message()));
    }
  }
  if (!any_reached) co_return Status::Unavailable(fmt::format("no replica of extent {:016x} answered", extent_id));
  co_return Status::Ok();
}

Task<Result<uint64_t>> SealChain(rpc::RpcClient& client, Chain chain, uint64_t extent_id, Duration timeout) {
  auto length = co_await ChooseSealLength(client, chain, extent_id, timeout);
  if (!length.ok()) co_return length.status();
  CO_RETURN_IF_ERROR(co_await SealChainAt(client, std::move(chain), extent_id, *length, timeout));
  co_return *length;
}

Task<Status> ReplicateExtent(rpc::RpcClient& client, NetAddress target, NetAddress source, uint64_t extent_id,
                             uint64_t length, bool seal, Duration timeout) {
  rpc::MessageBuffer message = rpc::EncodeMessage(
      ReplicateRequest{.extent_id = extent_id, .source = source.ToString(), .length = length, .seal = seal});
  auto result = co_await client.Call(std::move(target), kReplicateMethod, message.span(), {}, {.timeout = timeout});
  co_return result.status();
}

Task<Status> ReadFromReplica(rpc::RpcClient& client, NetAddress replica, ReadRange range, std::span<std::byte> into,
                             Duration timeout, uint32_t* crc) {
  rpc::MessageBuffer message = rpc::EncodeMessage(ReadRequest{.ranges = {range}});
  auto result = co_await client.Call(std::move(replica), kReadMethod, message.span(), {},
                                     {.timeout = timeout, .response_payload = into});
  if (!result.ok()) co_return result.status();
  auto response = DecodeReadResponse(result->message.span());
  if (!response.ok()) co_return response.status();
  if (response->outcomes.size() != 1) co_return Status::Internal("one range asked, another number answered");
  const ReadOutcome& outcome = response->outcomes[0];
  if (outcome.code != StatusCode::kOk) co_return Status(outcome.code, "read failed on the replica");
  if (outcome.length != range.length || result->payload_bytes != range.length) {
    co_return Status::Internal("the replica returned another length than asked");
  }
  if (crc != nullptr) *crc = result->payload_crc;
  co_return Status::Ok();
}

}  // namespace cerulean::storage
