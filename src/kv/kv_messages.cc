#include "kv/kv_messages.h"

#include <fmt/format.h>

namespace cerulean::kv {
namespace {

constexpr uint32_t kNameBytesMax = 1024;
constexpr uint32_t kMessageBytesMax = 4096;

void WriteKey(const KvKey& key, rpc::WireWriter& w) {
  w.Bytes(std::as_bytes(std::span(key.bytes)));
}

Result<KvKey> ReadKey(rpc::WireReader& r) {
  ASSIGN_OR_RETURN(std::span<const std::byte> raw, r.Bytes(32));
  if (raw.size() != 32) return Status::InvalidArgument(fmt::format("a KV key of {} bytes; keys are 32", raw.size()));
  return KvKey::FromBytes(raw.first<32>());
}

Result<uint32_t> ReadCount(rpc::WireReader& r, uint32_t max, std::string_view what) {
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > max) return Status::InvalidArgument(fmt::format("{} {}; at most {} per call", count, what, max));
  return count;
}

void WriteCode(StatusCode code, const std::string& message, rpc::WireWriter& w) {
  w.U16(static_cast<uint16_t>(code));
  w.String(message);
}

Status ReadCode(rpc::WireReader& r, StatusCode& code, std::string& message) {
  ASSIGN_OR_RETURN(uint16_t raw, r.U16());
  if (raw > kStatusCodeMax) return Status::InvalidArgument(fmt::format("unknown status code {}", raw));
  code = static_cast<StatusCode>(raw);
  ASSIGN_OR_RETURN(message, r.String(kMessageBytesMax));
  return Status::Ok();
}

}  // namespace

void Encode(const KvNamespaceSpec& m, rpc::WireWriter& w) {
  w.U32(m.id);
  w.String(m.name);
  w.U8(m.replicas);
  w.U64(m.quota_bytes);
  w.U32(m.value_bytes_max);
  w.U32(m.pieces_max);
  w.U32(m.default_ttl_s);
}

Result<KvNamespaceSpec> DecodeKvNamespaceSpec(rpc::WireReader& r) {
  KvNamespaceSpec m;
  ASSIGN_OR_RETURN(m.id, r.U32());
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.replicas, r.U8());
  ASSIGN_OR_RETURN(m.quota_bytes, r.U64());
  ASSIGN_OR_RETURN(m.value_bytes_max, r.U32());
  ASSIGN_OR_RETURN(m.pieces_max, r.U32());
  ASSIGN_OR_RETURN(m.default_ttl_s, r.U32());
  return m;
}

void Encode(const KvOpenNamespaceRequest& m, rpc::WireWriter& w) { Encode(m.spec, w); }

Result<KvOpenNamespaceRequest> DecodeKvOpenNamespaceRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvOpenNamespaceRequest m;
  ASSIGN_OR_RETURN(m.spec, DecodeKvNamespaceSpec(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvNamespaceByIdRequest& m, rpc::WireWriter& w) { w.U32(m.id); }

Result<KvNamespaceByIdRequest> DecodeKvNamespaceByIdRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvNamespaceByIdRequest m;
  ASSIGN_OR_RETURN(m.id, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvNamespaceResponse& m, rpc::WireWriter& w) {
  Encode(m.spec, w);
  w.U32(m.nodes_up);
}

Result<KvNamespaceResponse> DecodeKvNamespaceResponse(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvNamespaceResponse m;
  ASSIGN_OR_RETURN(m.spec, DecodeKvNamespaceSpec(r));
  ASSIGN_OR_RETURN(m.nodes_up, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

namespace {

void WritePutEntries(const std::vector<KvPutEntry>& entries, rpc::WireWriter& w) {
  w.U32(static_cast<uint32_t>(entries.size()));
  for (const KvPutEntry& e : entries) {
    WriteKey(e.key, w);
    w.U32(e.ttl_s);
    w.Bool(e.pin);
    w.U32(static_cast<uint32_t>(e.piece_bytes.size()));
    for (uint32_t piece : e.piece_bytes) w.U32(piece);
    w.U64(e.value_bytes);
    w.U32(e.value_crc);
  }
}

Status ReadPutEntries(rpc::WireReader& r, std::vector<KvPutEntry>& entries) {
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r, kKvBatchMax, "entries"));
  entries.resize(count);
  for (KvPutEntry& e : entries) {
    ASSIGN_OR_RETURN(e.key, ReadKey(r));
    ASSIGN_OR_RETURN(e.ttl_s, r.U32());
    ASSIGN_OR_RETURN(e.pin, r.Bool());
    ASSIGN_OR_RETURN(uint32_t pieces, ReadCount(r, 1u << 16, "pieces"));
    e.piece_bytes.resize(pieces);
    for (uint32_t& piece : e.piece_bytes) {
      ASSIGN_OR_RETURN(piece, r.U32());
    }
    ASSIGN_OR_RETURN(e.value_bytes, r.U64());
    ASSIGN_OR_RETURN(e.value_crc, r.U32());
  }
  return Status::Ok();
}

}  // namespace

void Encode(const KvPutRequest& m, rpc::WireWriter& w) {
  w.U32(m.ns);
  WritePutEntries(m.entries, w);
}

Result<KvPutRequest> DecodeKvPutRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvPutRequest m;
  ASSIGN_OR_RETURN(m.ns, r.U32());
  RETURN_IF_ERROR(ReadPutEntries(r, m.entries));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvShmGetRequest& m, rpc::WireWriter& w) {
  w.U32(m.ns);
  w.U64(m.region);
  w.U32(static_cast<uint32_t>(m.keys.size()));
  for (size_t i = 0; i < m.keys.size(); i++) {
    WriteKey(m.keys[i], w);
    const std::vector<KvShmSpan>& pieces = m.pieces[i];
    w.U32(static_cast<uint32_t>(pieces.size()));
    for (const KvShmSpan& piece : pieces) {
      w.U64(piece.offset);
      w.U32(piece.bytes);
    }
  }
}

Result<KvShmGetRequest> DecodeKvShmGetRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvShmGetRequest m;
  ASSIGN_OR_RETURN(m.ns, r.U32());
  ASSIGN_OR_RETURN(m.region, r.U64());
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r, kKvBatchMax, "keys"));
  m.keys.resize(count);
  m.pieces.resize(count);
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(m.keys[i], ReadKey(r));
    ASSIGN_OR_RETURN(uint32_t pieces, ReadCount(r, 1u << 16, "pieces"));
    m.pieces[i].resize(pieces);
    for (KvShmSpan& piece : m.pieces[i]) {
      ASSIGN_OR_RETURN(piece.offset, r.U64());
      ASSIGN_OR_RETURN(piece.bytes, r.U32());
    }
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvShmPutRequest& m, rpc::WireWriter& w) {
  w.U32(m.ns);
  w.U64(m.region);
  WritePutEntries(m.entries, w);
  for (uint64_t source : m.sources) w.U64(source);
}

Result<KvShmPutRequest> DecodeKvShmPutRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvShmPutRequest m;
  ASSIGN_OR_RETURN(m.ns, r.U32());
  ASSIGN_OR_RETURN(m.region, r.U64());
  RETURN_IF_ERROR(ReadPutEntries(r, m.entries));
  m.sources.resize(m.entries.size());
  for (uint64_t& source : m.sources) {
    ASSIGN_OR_RETURN(source, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvKeysRequest& m, rpc::WireWriter& w) {
  w.U32(m.ns);
  w.Bool(m.lease);
  w.U32(m.ttl_s);
  w.U32(static_cast<uint32_t>(m.keys.size()));
  for (const KvKey& key : m.keys) WriteKey(key, w);
}

Result<KvKeysRequest> DecodeKvKeysRequest(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvKeysRequest m;
  ASSIGN_OR_RETURN(m.ns, r.U32());
  ASSIGN_OR_RETURN(m.lease, r.Bool());
  ASSIGN_OR_RETURN(m.ttl_s, r.U32());
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r, kKvBatchMax, "keys"));
  m.keys.resize(count);
  for (KvKey& key : m.keys) {
    ASSIGN_OR_RETURN(key, ReadKey(r));
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvOutcomesResponse& m, rpc::WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.outcomes.size()));
  for (const KvOutcome& o : m.outcomes) {
    WriteCode(o.code, o.message, w);
    w.Bool(o.flag);
    w.I64(o.number);
  }
}

Result<KvOutcomesResponse> DecodeKvOutcomesResponse(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvOutcomesResponse m;
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r, kKvBatchMax, "outcomes"));
  m.outcomes.resize(count);
  for (KvOutcome& o : m.outcomes) {
    RETURN_IF_ERROR(ReadCode(r, o.code, o.message));
    ASSIGN_OR_RETURN(o.flag, r.Bool());
    ASSIGN_OR_RETURN(o.number, r.I64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvGetResponse& m, rpc::WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.entries.size()));
  for (const KvGetEntry& e : m.entries) {
    WriteCode(e.code, e.message, w);
    w.Bool(e.found);
    w.U32(static_cast<uint32_t>(e.piece_bytes.size()));
    for (uint32_t piece : e.piece_bytes) w.U32(piece);
    w.U64(e.value_bytes);
  }
}

Result<KvGetResponse> DecodeKvGetResponse(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvGetResponse m;
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r, kKvBatchMax, "entries"));
  m.entries.resize(count);
  for (KvGetEntry& e : m.entries) {
    RETURN_IF_ERROR(ReadCode(r, e.code, e.message));
    ASSIGN_OR_RETURN(e.found, r.Bool());
    ASSIGN_OR_RETURN(uint32_t pieces, ReadCount(r, 1u << 16, "pieces"));
    e.piece_bytes.resize(pieces);
    for (uint32_t& piece : e.piece_bytes) {
      ASSIGN_OR_RETURN(piece, r.U32());
    }
    ASSIGN_OR_RETURN(e.value_bytes, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const KvStatsResponse& m, rpc::WireWriter& w) {
  for (uint64_t v : {m.entries, m.dram_capacity_bytes, m.dram_used_bytes, m.live_value_bytes, m.index_bytes, m.gets,
                     m.hits, m.puts, m.stored, m.evicted, m.expired, m.ssd_capacity_bytes, m.ssd_used_bytes,
                     m.ssd_hits, m.demoted, m.promoted, m.ssd_evicted, m.shm_regions, m.shm_bytes}) {
    w.U64(v);
  }
}

Result<KvStatsResponse> DecodeKvStatsResponse(std::span<const std::byte> bytes) {
  rpc::WireReader r(bytes);
  KvStatsResponse m;
  for (uint64_t* v : {&m.entries, &m.dram_capacity_bytes, &m.dram_used_bytes, &m.live_value_bytes, &m.index_bytes,
                      &m.gets, &m.hits, &m.puts, &m.stored, &m.evicted, &m.expired, &m.ssd_capacity_bytes,
                      &m.ssd_used_bytes, &m.ssd_hits, &m.demoted, &m.promoted, &m.ssd_evicted, &m.shm_regions,
                      &m.shm_bytes}) {
    ASSIGN_OR_RETURN(*v, r.U64());
  }
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

Status ValidateKvNamespaceSpec(const KvNamespaceSpec& spec) {
  if (spec.name.empty() || spec.name.size() > kNameBytesMax) {
    return Status::InvalidArgument("a KV namespace name is 1 to 1024 bytes");
  }
  for (char c : spec.name) {
    if (c < 0x20 || c > 0x7e) return Status::InvalidArgument("a KV namespace name is printable ASCII");
  }
  if (spec.replicas < 1 || spec.replicas > 3) {
    return Status::InvalidArgument(fmt::format("a KV namespace has 1 to 3 replicas, not {}", spec.replicas));
  }
  if (spec.value_bytes_max == 0 || spec.pieces_max == 0) {
    return Status::InvalidArgument("a KV namespace's largest value and piece count must be positive");
  }
  return Status::Ok();
}

}  // namespace cerulean::kv
