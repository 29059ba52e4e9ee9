#include "storage/storage_messages.h"

#include <fmt/format.h>

namespace cerulean::storage {

using rpc::WireReader;
using rpc::WireWriter;

void Encode(const CreateExtentRequest& m, WireWriter& w) {
  w.U64(m.extent_id);
  w.U8(static_cast<uint8_t>(m.durability));
  w.U64(m.chain_version);
}

Result<CreateExtentRequest> DecodeCreateExtentRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  CreateExtentRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  ASSIGN_OR_RETURN(uint8_t durability, r.U8());
  if (durability > static_cast<uint8_t>(Durability::kNone)) {
    return Status::InvalidArgument(fmt::format("unknown durability {}", durability));
  }
  m.durability = static_cast<Durability>(durability);
  ASSIGN_OR_RETURN(m.chain_version, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const AppendRequest& m, WireWriter& w) {
  w.U64(m.extent_id);
  w.U64(m.chain_version);
  w.U64(m.owner.high);
  w.U64(m.owner.low);
  w.U64(m.expected_offset);
  w.U32(static_cast<uint32_t>(m.successors.size()));
  for (const std::string& successor : m.successors) w.String(successor);
}

Result<AppendRequest> DecodeAppendRequest(std::span<const std::byte> bytes) {
  constexpr uint32_t kAddressBytesMax = 256;
  WireReader r(bytes);
  AppendRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  ASSIGN_OR_RETURN(m.chain_version, r.U64());
  ASSIGN_OR_RETURN(m.owner.high, r.U64());
  ASSIGN_OR_RETURN(m.owner.low, r.U64());
  ASSIGN_OR_RETURN(m.expected_offset, r.U64());
  ASSIGN_OR_RETURN(uint32_t successors, r.U32());
  if (successors >= kChainLengthMax) {
    return Status::InvalidArgument(fmt::format("{} successors; a chain has at most {} replicas", successors, kChainLengthMax));
  }
  for (uint32_t i = 0; i < successors; i++) {
    ASSIGN_OR_RETURN(std::string successor, r.String(kAddressBytesMax));
    m.successors.push_back(std::move(successor));
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const AppendResponse& m, WireWriter& w) {
  w.U64(m.record_offset);
  w.U64(m.sequence);
  w.U32(m.payload_bytes);
  w.U32(m.payload_crc);
  w.U64(m.extent_length);
}

Result<AppendResponse> DecodeAppendResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  AppendResponse m;
  ASSIGN_OR_RETURN(m.record_offset, r.U64());
  ASSIGN_OR_RETURN(m.sequence, r.U64());
  ASSIGN_OR_RETURN(m.payload_bytes, r.U32());
  ASSIGN_OR_RETURN(m.payload_crc, r.U32());
  ASSIGN_OR_RETURN(m.extent_length, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ReadRequest& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.ranges.size()));
  for (const ReadRange& range : m.ranges) {
    w.U64(range.extent_id);
    w.U64(range.record_offset);
    w.U64(range.offset_in_payload);
    w.U64(range.length);
  }
}

Result<ReadRequest> DecodeReadRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kReadRangesMax) {
    return Status::InvalidArgument(fmt::format("{} ranges in one read; the limit is {}", count, kReadRangesMax));
  }
  // Each range is 32 bytes: refuse a count the message cannot hold before reserving for it.
  if (r.remaining() != size_t{count} * 32) return Status::InvalidArgument("read request length disagrees with its range count");
  ReadRequest m;
  m.ranges.resize(count);
  uint64_t total = 0;
  for (ReadRange& range : m.ranges) {
    ASSIGN_OR_RETURN(range.extent_id, r.U64());
    ASSIGN_OR_RETURN(range.record_offset, r.U64());
    ASSIGN_OR_RETURN(range.offset_in_payload, r.U64());
    ASSIGN_OR_RETURN(range.length, r.U64());
    if (range.length > kReadResponseBytesMax || (total += range.length) > kReadResponseBytesMax) {
      return Status::InvalidArgument(fmt::format("a read of more than {} bytes in one call", kReadResponseBytesMax));
    }
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ReadResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.outcomes.size()));
  for (const ReadOutcome& outcome : m.outcomes) {
    w.U16(static_cast<uint16_t>(outcome.code));
    w.U64(outcome.length);
  }
}

Result<ReadResponse> DecodeReadResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kReadRangesMax || r.remaining() != size_t{count} * 10) {
    return Status::InvalidArgument("read response length disagrees with its outcome count");
  }
  ReadResponse m;
  m.outcomes.resize(count);
  for (ReadOutcome& outcome : m.outcomes) {
    ASSIGN_OR_RETURN(uint16_t code, r.U16());
    if (code > kStatusCodeMax) return Status::InvalidArgument(fmt::format("unknown status code {}", code));
    outcome.code = static_cast<StatusCode>(code);
    ASSIGN_OR_RETURN(outcome.length, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const AppendSharedRequest& m, WireWriter& w) {
  const rpc::MessageBuffer append = rpc::EncodeMessage(m.append);
  w.Bytes(append.span());
  w.U64(m.region);
  w.U64(m.at);
  w.U64(m.bytes);
  w.U64(m.room);
  w.U32(m.payload_crc);
}

Result<AppendSharedRequest> DecodeAppendSharedRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  AppendSharedRequest m;
  ASSIGN_OR_RETURN(std::span<const std::byte> append, r.Bytes(4096));
  ASSIGN_OR_RETURN(m.append, DecodeAppendRequest(append));
  ASSIGN_OR_RETURN(m.region, r.U64());
  ASSIGN_OR_RETURN(m.at, r.U64());
  ASSIGN_OR_RETURN(m.bytes, r.U64());
  ASSIGN_OR_RETURN(m.room, r.U64());
  ASSIGN_OR_RETURN(m.payload_crc, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  if (m.bytes > kRecordPayloadBytesMax || m.room < m.bytes) {
    return Status::InvalidArgument(fmt::format("an append of {} bytes with {} bytes of room", m.bytes, m.room));
  }
  return m;
}

void Encode(const ReadSharedRequest& m, WireWriter& w) {
  w.U64(m.region);
  w.U8(m.from_cache ? 1 : 0);
  w.U32(static_cast<uint32_t>(m.ranges.size()));
  for (const SharedReadRange& shared : m.ranges) {
    w.U64(shared.range.extent_id);
    w.U64(shared.range.record_offset);
    w.U64(shared.range.offset_in_payload);
    w.U64(shared.range.length);
    w.U64(shared.at);
    w.U64(shared.room);
  }
}

Result<ReadSharedRequest> DecodeReadSharedRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ReadSharedRequest m;
  ASSIGN_OR_RETURN(m.region, r.U64());
  ASSIGN_OR_RETURN(uint8_t from_cache, r.U8());
  if (from_cache > 1) return Status::InvalidArgument(fmt::format("from_cache is {}, not 0 or 1", from_cache));
  m.from_cache = from_cache == 1;
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kReadRangesMax) {
    return Status::InvalidArgument(fmt::format("{} ranges in one read; the limit is {}", count, kReadRangesMax));
  }
  if (r.remaining() != size_t{count} * 48) return Status::InvalidArgument("read request length disagrees with its range count");
  m.ranges.resize(count);
  for (SharedReadRange& shared : m.ranges) {
    ASSIGN_OR_RETURN(shared.range.extent_id, r.U64());
    ASSIGN_OR_RETURN(shared.range.record_offset, r.U64());
    ASSIGN_OR_RETURN(shared.range.offset_in_payload, r.U64());
    ASSIGN_OR_RETURN(shared.range.length, r.U64());
    ASSIGN_OR_RETURN(shared.at, r.U64());
    ASSIGN_OR_RETURN(shared.room, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ReadSharedResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.outcomes.size()));
  for (const SharedReadOutcome& outcome : m.outcomes) {
    w.U16(static_cast<uint16_t>(outcome.code));
    w.U8(outcome.in_cache ? 1 : 0);
    w.U64(outcome.offset);
    w.U64(outcome.length);
    w.U32(outcome.crc);
  }
}

Result<ReadSharedResponse> DecodeReadSharedResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kReadRangesMax || r.remaining() != size_t{count} * 23) {
    return Status::InvalidArgument("read response length disagrees with its outcome count");
  }
  ReadSharedResponse m;
  m.outcomes.resize(count);
  for (SharedReadOutcome& outcome : m.outcomes) {
    ASSIGN_OR_RETURN(uint16_t code, r.U16());
    if (code > kStatusCodeMax) return Status::InvalidArgument(fmt::format("unknown status code {}", code));
    outcome.code = static_cast<StatusCode>(code);
    ASSIGN_OR_RETURN(uint8_t in_cache, r.U8());
    if (in_cache > 1) return Status::InvalidArgument(fmt::format("in_cache is {}, not 0 or 1", in_cache));
    outcome.in_cache = in_cache == 1;
    ASSIGN_OR_RETURN(outcome.offset, r.U64());
    ASSIGN_OR_RETURN(outcome.length, r.U64());
    ASSIGN_OR_RETURN(outcome.crc, r.U32());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const SealRequest& m, WireWriter& w) {
  w.U64(m.extent_id);
  w.U64(m.length);
}

Result<SealRequest> DecodeSealRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  SealRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  ASSIGN_OR_RETURN(m.length, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ExtentRequest& m, WireWriter& w) { w.U64(m.extent_id); }

Result<ExtentRequest> DecodeExtentRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ExtentRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ExtentLengthResponse& m, WireWriter& w) {
  w.U64(m.length);
  w.Bool(m.sealed);
}

Result<ExtentLengthResponse> DecodeExtentLengthResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ExtentLengthResponse m;
  ASSIGN_OR_RETURN(m.length, r.U64());
  ASSIGN_OR_RETURN(m.sealed, r.Bool());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const StorageStatsResponse& m, WireWriter& w) {
  for (uint64_t value : {m.capacity_bytes, m.used_bytes, m.reserve_bytes, m.extent_count, m.append_latency_p50_ns,
                         m.append_latency_p99_ns, m.read_latency_p50_ns, m.read_latency_p99_ns, m.appends,
                         m.data_loss_events}) {
    w.U64(value);
  }
}

Result<StorageStatsResponse> DecodeStorageStatsResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  StorageStatsResponse m;
  for (uint64_t* field : {&m.capacity_bytes, &m.used_bytes, &m.reserve_bytes, &m.extent_count,
                          &m.append_latency_p50_ns, &m.append_latency_p99_ns, &m.read_latency_p50_ns,
                          &m.read_latency_p99_ns, &m.appends, &m.data_loss_events}) {
    ASSIGN_OR_RETURN(*field, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ReadRecordsRequest& m, WireWriter& w) {
  w.U64(m.extent_id);
  w.U64(m.from_offset);
  w.U64(m.bytes_max);
}

Result<ReadRecordsRequest> DecodeReadRecordsRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ReadRecordsRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  ASSIGN_OR_RETURN(m.from_offset, r.U64());
  ASSIGN_OR_RETURN(m.bytes_max, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ReadRecordsResponse& m, WireWriter& w) {
  w.U64(m.end_offset);
  w.U64(m.extent_length);
  w.Bool(m.sealed);
  w.U8(static_cast<uint8_t>(m.durability));
  w.U64(m.chain_version);
}

Result<ReadRecordsResponse> DecodeReadRecordsResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ReadRecordsResponse m;
  ASSIGN_OR_RETURN(m.end_offset, r.U64());
  ASSIGN_OR_RETURN(m.extent_length, r.U64());
  ASSIGN_OR_RETURN(m.sealed, r.Bool());
  ASSIGN_OR_RETURN(uint8_t durability, r.U8());
  if (durability > static_cast<uint8_t>(Durability::kNone)) return Status::InvalidArgument("unknown durability");
  m.durability = static_cast<Durability>(durability);
  ASSIGN_OR_RETURN(m.chain_version, r.U64());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ReplicateRequest& m, WireWriter& w) {
  w.U64(m.extent_id);
  w.String(m.source);
  w.U64(m.length);
  w.Bool(m.seal);
}

Result<ReplicateRequest> DecodeReplicateRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ReplicateRequest m;
  ASSIGN_OR_RETURN(m.extent_id, r.U64());
  ASSIGN_OR_RETURN(m.source, r.String(256));
  ASSIGN_OR_RETURN(m.length, r.U64());
  ASSIGN_OR_RETURN(m.seal, r.Bool());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace cerulean::storage
