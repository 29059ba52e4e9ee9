#include "meta/meta_records.h"

#include <fmt/format.h>

#include "rpc/wire.h"

namespace cerulean::meta {
namespace {

using rpc::WireReader;
using rpc::WireWriter;

constexpr uint8_t kContainerFormat = 1;
constexpr uint8_t kContainerBlobsOnlyFormat = 2;  // public reads of blobs, not listings
constexpr uint8_t kObjectFormat = 1;
constexpr uint8_t kObjectWithBlocksFormat = 2;
constexpr uint8_t kObjectWithHeadersFormat = 3;  // format 2 (with a block list, maybe empty) and content headers
constexpr uint8_t kStagedBlockFormat = 1;
constexpr uint8_t kUploadFormat = 1;
constexpr uint8_t kUploadWithHeadersFormat = 2;
constexpr uint32_t kHeaderValueBytesMax = 8 * 1024;
constexpr uint32_t kBlockIdBytesMax = 1024;
constexpr uint32_t kBlocksMax = 100'000;
constexpr uint8_t kExtentFormat = 1;
constexpr uint32_t kNodeIdBytesMax = 256;
constexpr uint32_t kMetadataPairsMax = 1024;
constexpr uint32_t kMetadataBytesMax = 8 * 1024;
constexpr uint32_t kPiecesMax = 1u << 24;

std::span<const std::byte> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

std::string ToString(const rpc::MessageBuffer& buffer) {
  return {reinterpret_cast<const char*>(buffer.span().data()), buffer.span().size()};
}

void EncodePieces(const std::vector<Piece>& pieces, WireWriter& w) {
  w.U32(static_cast<uint32_t>(pieces.size()));
  for (const Piece& piece : pieces) {
    w.U64(piece.extent_id);
    w.U64(piece.record_offset);
    w.U32(piece.length);
    w.U32(piece.crc32c);
  }
}

// The pieces, which must hold `size` bytes in all.
Result<std::vector<Piece>> DecodePieces(WireReader& r, uint64_t size) {
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kPiecesMax || count > r.remaining() / 24) {
    return Status::DataLoss(fmt::format("{} pieces do not fit the record", count));
  }
  std::vector<Piece> pieces;
  pieces.reserve(count);
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    Piece piece;
    ASSIGN_OR_RETURN(piece.extent_id, r.U64());
    ASSIGN_OR_RETURN(piece.record_offset, r.U64());
    ASSIGN_OR_RETURN(piece.length, r.U32());
    ASSIGN_OR_RETURN(piece.crc32c, r.U32());
    total += piece.length;
    pieces.push_back(piece);
  }
  if (total != size) return Status::DataLoss(fmt::format("pieces hold {} bytes of a {}-byte record", total, size));
  return pieces;
}

Status CheckFormat(WireReader& r, uint8_t expected, std::string_view what) {
  ASSIGN_OR_RETURN(uint8_t format, r.U8());
  if (format != expected) return Status::DataLoss(fmt::format("{} record of unknown format {}", what, format));
  return Status::Ok();
}

// A value that does not decode is damage in the store, not a bad request.
template <typename T>
Result<T> AsDataLoss(Result<T> result, std::string_view what) {
  if (result.ok() || result.status().code() == StatusCode::kDataLoss) return result;
  return Status::DataLoss(fmt::format("{} record does not decode: {}", what, result.status().message()));
}

}  // namespace

void EncodeContentHeaders(const ContentHeaders& headers, WireWriter& w) {
  w.String(headers.content_encoding);
  w.String(headers.content_language);
  w.String(headers.content_disposition);
  w.String(headers.cache_control);
  w.String(headers.content_md5);
}

Result<ContentHeaders> DecodeContentHeaders(WireReader& r) {
  ContentHeaders headers;
  ASSIGN_OR_RETURN(headers.content_encoding, r.String(kHeaderValueBytesMax));
  ASSIGN_OR_RETURN(headers.content_language, r.String(kHeaderValueBytesMax));
  ASSIGN_OR_RETURN(headers.content_disposition, r.String(kHeaderValueBytesMax));
  ASSIGN_OR_RETURN(headers.cache_control, r.String(kHeaderValueBytesMax));
  ASSIGN_OR_RETURN(headers.content_md5, r.String(kHeaderValueBytesMax));
  return headers;
}

void EncodeMetadata(const UserMetadata& metadata, WireWriter& w) {
  w.U32(static_cast<uint32_t>(metadata.size()));
  for (const auto& [name, value] : metadata) {
    w.String(name);
    w.String(value);
  }
}

Result<UserMetadata> DecodeMetadata(WireReader& r) {
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kMetadataPairsMax) return Status::DataLoss(fmt::format("{} metadata pairs", count));
  UserMetadata metadata;
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(std::string name, r.String(kMetadataBytesMax));
    ASSIGN_OR_RETURN(std::string value, r.String(kMetadataBytesMax));
    metadata.emplace_back(std::move(name), std::move(value));
  }
  return metadata;
}

std::string EncodeContainerRecord(const ContainerRecord& record) {
  rpc::MessageBuffer buffer;
  WireWriter w(buffer);
  const bool blobs_only = record.public_read && !record.public_list;
  w.U8(blobs_only ? kContainerBlobsOnlyFormat : kContainerFormat);
  w.I64(record.created_unix_ns);
  w.Bool(record.public_read);
  EncodeMetadata(record.metadata, w);
  if (blobs_only) w.Bool(false);
  return ToString(buffer);
}

Result<ContainerRecord> DecodeContainerRecord(std::string_view bytes) {
  return AsDataLoss([&]() -> Result<ContainerRecord> {
    WireReader r(AsBytes(bytes));
    ASSIGN_OR_RETURN(uint8_t format, r.U8());
    if (format != kContainerFormat && format != kContainerBlobsOnlyFormat) {
      return Status::DataLoss(fmt::format("container record of unknown format {}", format));
    }
    ContainerRecord record;
    ASSIGN_OR_RETURN(record.created_unix_ns, r.I64());
    ASSIGN_OR_RETURN(record.public_read, r.Bool());
    ASSIGN_OR_RETURN(record.metadata, DecodeMetadata(r));
    if (format == kContainerBlobsOnlyFormat) {
      ASSIGN_OR_RETURN(record.public_list, r.Bool());
    }
    RETURN_IF_ERROR(r.ExpectEnd());
    return record;
  }(), "container");
}

std::string EncodeObjectRecord(const ObjectRecord& record) {
  rpc::MessageBuffer buffer;
  WireWriter w(buffer);
  // Format 1 has no block list; objects made from staged blocks use format 2, which adds it;
  // format 3 adds content headers to format 2.
  const uint8_t format = !record.headers.empty()   ? kObjectWithHeadersFormat
                         : !record.blocks.empty() ? kObjectWithBlocksFormat
                                                  : kObjectFormat;
  w.U8(format);
  w.U64(record.size);
  w.String(record.etag);
  w.String(record.content_type);
  EncodeMetadata(record.metadata, w);
  w.I64(record.created_unix_ns);
  w.I64(record.modified_unix_ns);
  w.U32(record.crc32c);
  EncodePieces(record.pieces, w);
  if (format != kObjectFormat) {
    w.U32(static_cast<uint32_t>(record.blocks.size()));
    for (const BlockRef& block : record.blocks) {
      w.String(block.id);
      w.U32(block.pieces);
    }
  }
  if (format == kObjectWithHeadersFormat) EncodeContentHeaders(record.headers, w);
  return ToString(buffer);
}

Result<ObjectRecord> DecodeObjectRecord(std::string_view bytes) {
  return AsDataLoss([&]() -> Result<ObjectRecord> {
    WireReader r(AsBytes(bytes));
    ASSIGN_OR_RETURN(uint8_t format, r.U8());
    if (format != kObjectFormat && format != kObjectWithBlocksFormat && format != kObjectWithHeadersFormat) {
      return Status::DataLoss(fmt::format("object record of unknown format {}", format));
    }
    ObjectRecord record;
    ASSIGN_OR_RETURN(record.size, r.U64());
    ASSIGN_OR_RETURN(record.etag, r.String(1024));
    ASSIGN_OR_RETURN(record.content_type, r.String(1024));
    ASSIGN_OR_RETURN(record.metadata, DecodeMetadata(r));
    ASSIGN_OR_RETURN(record.created_unix_ns, r.I64());
    ASSIGN_OR_RETURN(record.modified_unix_ns, r.I64());
    ASSIGN_OR_RETURN(record.crc32c, r.U32());
    ASSIGN_OR_RETURN(record.pieces, DecodePieces(r, record.size));
    if (format != kObjectFormat) {
      ASSIGN_OR_RETURN(uint32_t blocks, r.U32());
      if ((blocks == 0 && format == kObjectWithBlocksFormat) || blocks > kBlocksMax) {
        return Status::DataLoss(fmt::format("{} blocks", blocks));
      }
      uint64_t covered = 0;
      for (uint32_t i = 0; i < blocks; i++) {
        BlockRef block;
        ASSIGN_OR_RETURN(block.id, r.String(kBlockIdBytesMax));
        ASSIGN_OR_RETURN(block.pieces, r.U32());
        covered += block.pieces;
        record.blocks.push_back(std::move(block));
      }
      if (blocks != 0 && covered != record.pieces.size()) {
        return Status::DataLoss(fmt::format("blocks cover {} of {} pieces", covered, record.pieces.size()));
      }
    }
    if (format == kObjectWithHeadersFormat) {
      ASSIGN_OR_RETURN(record.headers, DecodeContentHeaders(r));
    }
    RETURN_IF_ERROR(r.ExpectEnd());
    return record;
  }(), "object");
}

std::string EncodeStagedBlockRecord(const StagedBlockRecord& record) {
  rpc::MessageBuffer buffer;
  WireWriter w(buffer);
  w.U8(kStagedBlockFormat);
  w.U64(record.size);
  w.String(record.etag);
  w.I64(record.created_unix_ns);
  EncodePieces(record.pieces, w);
  return ToString(buffer);
}

Result<StagedBlockRecord> DecodeStagedBlockRecord(std::string_view bytes) {
  return AsDataLoss([&]() -> Result<StagedBlockRecord> {
    WireReader r(AsBytes(bytes));
    RETURN_IF_ERROR(CheckFormat(r, kStagedBlockFormat, "staged block"));
    StagedBlockRecord record;
    ASSIGN_OR_RETURN(record.size, r.U64());
    ASSIGN_OR_RETURN(record.etag, r.String(1024));
    ASSIGN_OR_RETURN(record.created_unix_ns, r.I64());
    ASSIGN_OR_RETURN(record.pieces, DecodePieces(r, record.size));
    RETURN_IF_ERROR(r.ExpectEnd());
    return record;
  }(), "staged block");
}

std::string EncodeUploadRecord(const UploadRecord& record) {
  rpc::MessageBuffer buffer;
  WireWriter w(buffer);
  w.U8(record.headers.empty() ? kUploadFormat : kUploadWithHeadersFormat);
  w.I64(record.created_unix_ns);
  w.String(record.content_type);
  EncodeMetadata(record.metadata, w);
  if (!record.headers.empty()) EncodeContentHeaders(record.headers, w);
  return ToString(buffer);
}

Result<UploadRecord> DecodeUploadRecord(std::string_view bytes) {
  return AsDataLoss([&]() -> Result<UploadRecord> {
    WireReader r(AsBytes(bytes));
    ASSIGN_OR_RETURN(uint8_t format, r.U8());
    if (format != kUploadFormat && format != kUploadWithHeadersFormat) {
      return Status::DataLoss(fmt::format("upload record of unknown format {}", format));
    }
    UploadRecord record;
    ASSIGN_OR_RETURN(record.created_unix_ns, r.I64());
    ASSIGN_OR_RETURN(record.content_type, r.String(1024));
    ASSIGN_OR_RETURN(record.metadata, DecodeMetadata(r));
    if (format == kUploadWithHeadersFormat) {
      ASSIGN_OR_RETURN(record.headers, DecodeContentHeaders(r));
    }
    RETURN_IF_ERROR(r.ExpectEnd());
    return record;
  }(), "upload");
}

std::string EncodeExtentRecord(const ExtentRecord& record) {
  rpc::MessageBuffer buffer;
  WireWriter w(buffer);
  w.U8(kExtentFormat);
  w.U64(record.extent_id);
  w.U8(static_cast<uint8_t>(record.replicas.size()));
  for (const std::string& replica : record.replicas) w.String(replica);
  w.U64(record.chain_version);
  w.Bool(record.durable);
  w.U8(static_cast<uint8_t>(record.state));
  w.U64(record.sealed_length);
  w.U64(record.committed_bytes);
  w.U64(record.garbage_bytes);
  return ToString(buffer);
}

Result<ExtentRecord> DecodeExtentRecord(std::string_view bytes) {
  return AsDataLoss([&]() -> Result<ExtentRecord> {
    WireReader r(AsBytes(bytes));
    RETURN_IF_ERROR(CheckFormat(r, kExtentFormat, "extent"));
    ExtentRecord record;
    ASSIGN_OR_RETURN(record.extent_id, r.U64());
    ASSIGN_OR_RETURN(uint8_t replicas, r.U8());
    if (replicas == 0 || replicas > 3) return Status::DataLoss(fmt::format("a chain of {} replicas", replicas));
    for (uint8_t i = 0; i < replicas; i++) {
      ASSIGN_OR_RETURN(std::string replica, r.String(kNodeIdBytesMax));
      record.replicas.push_back(std::move(replica));
    }
    ASSIGN_OR_RETURN(record.chain_version, r.U64());
    ASSIGN_OR_RETURN(record.durable, r.Bool());
    ASSIGN_OR_RETURN(uint8_t state, r.U8());
    if (state > static_cast<uint8_t>(ExtentState::kAbandoned)) return Status::DataLoss(fmt::format("extent state {}", state));
    record.state = static_cast<ExtentState>(state);
    ASSIGN_OR_RETURN(record.sealed_length, r.U64());
    ASSIGN_OR_RETURN(record.committed_bytes, r.U64());
    ASSIGN_OR_RETURN(record.garbage_bytes, r.U64());
    RETURN_IF_ERROR(r.ExpectEnd());
    return record;
  }(), "extent");
}

}  // namespace cerulean::meta
