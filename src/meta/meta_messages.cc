#include "meta/meta_messages.h"

#include <fmt/format.h>

#include "meta/names.h"

namespace cerulean::meta {
namespace {

using rpc::WireReader;
using rpc::WireWriter;

constexpr uint32_t kNameBytesMax = kObjectNameBytesMax;
constexpr uint32_t kRecordBytesMax = 64u << 20;
constexpr uint32_t kListedMax = 5000;

// A record inside a message is its stored encoding; one that does not decode is a bad message.
template <typename T>
Result<T> BadMessageIfNot(Result<T> result) {
  if (result.ok()) return result;
  return Status::InvalidArgument(std::string(result.status().message()));
}

Result<ContainerRecord> ReadContainerRecord(WireReader& r) {
  ASSIGN_OR_RETURN(std::string bytes, r.String(kRecordBytesMax));
  return BadMessageIfNot(DecodeContainerRecord(bytes));
}

Result<ObjectRecord> ReadObjectRecord(WireReader& r) {
  ASSIGN_OR_RETURN(std::string bytes, r.String(kRecordBytesMax));
  return BadMessageIfNot(DecodeObjectRecord(bytes));
}

void WriteOptional(const std::optional<std::string>& value, WireWriter& w) {
  w.Bool(value.has_value());
  if (value) w.String(*value);
}

Result<std::optional<std::string>> ReadOptional(WireReader& r) {
  ASSIGN_OR_RETURN(bool present, r.Bool());
  if (!present) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string value, r.String(kNameBytesMax));
  return std::optional<std::string>(std::move(value));
}

Result<uint32_t> ReadCount(WireReader& r) {
  ASSIGN_OR_RETURN(uint32_t count, r.U32());
  if (count > kListedMax) return Status::InvalidArgument(fmt::format("{} entries; a page holds at most {}", count, kListedMax));
  return count;
}

}  // namespace

void Encode(const ContainerRequest& m, WireWriter& w) {
  w.String(m.name);
  w.String(EncodeContainerRecord(m.record));
}

Result<ContainerRequest> DecodeContainerRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ContainerRequest m;
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.record, ReadContainerRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ContainerResponse& m, WireWriter& w) { w.String(EncodeContainerRecord(m.record)); }

Result<ContainerResponse> DecodeContainerResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ContainerResponse m;
  ASSIGN_OR_RETURN(m.record, ReadContainerRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListContainersRequest& m, WireWriter& w) {
  w.String(m.prefix);
  w.String(m.start_after);
  w.U32(m.max_results);
}

Result<ListContainersRequest> DecodeListContainersRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListContainersRequest m;
  ASSIGN_OR_RETURN(m.prefix, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.start_after, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.max_results, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListContainersResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.containers.size()));
  for (const auto& [name, record] : m.containers) {
    w.String(name);
    w.String(EncodeContainerRecord(record));
  }
  w.Bool(m.truncated);
  w.String(m.next_start_after);
}

Result<ListContainersResponse> DecodeListContainersResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListContainersResponse m;
  ASSIGN_OR_RETURN(uint32_t count, ReadCount(r));
  for (uint32_t i = 0; i < count; i++) {
    ASSIGN_OR_RETURN(std::string name, r.String(kNameBytesMax));
    ASSIGN_OR_RETURN(ContainerRecord record, ReadContainerRecord(r));
    m.containers.emplace_back(std::move(name), std::move(record));
  }
  ASSIGN_OR_RETURN(m.truncated, r.Bool());
  ASSIGN_OR_RETURN(m.next_start_after, r.String(kNameBytesMax));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ObjectRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.name);
  WriteOptional(m.if_match, w);
  WriteOptional(m.if_none_match, w);
}

Result<ObjectRequest> DecodeObjectRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ObjectRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.name, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.if_match, ReadOptional(r));
  ASSIGN_OR_RETURN(m.if_none_match, ReadOptional(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ObjectResponse& m, WireWriter& w) { w.String(EncodeObjectRecord(m.record)); }

Result<ObjectResponse> DecodeObjectResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ObjectResponse m;
  ASSIGN_OR_RETURN(m.record, ReadObjectRecord(r));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListObjectsRequest& m, WireWriter& w) {
  w.String(m.container);
  w.String(m.prefix);
  w.String(m.delimiter);
  w.String(m.start_after);
  w.U32(m.max_results);
}

Result<ListObjectsRequest> DecodeListObjectsRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListObjectsRequest m;
  ASSIGN_OR_RETURN(m.container, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.prefix, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.delimiter, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.start_after, r.String(kNameBytesMax));
  ASSIGN_OR_RETURN(m.max_results, r.U32());
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

void Encode(const ListObjectsResponse& m, WireWriter& w) {
  w.U32(static_cast<uint32_t>(m.objects.size()));
  for (const auto& [name, record] : m.objects) {
    w.String(name);
    w.String(EncodeObjectRecord(record));
  }
  w.U32(static_cast<uint32_t>(m.common_prefixes.size()));
  for (const std::string& prefix : m.common_prefixes) w.String(prefix);
  w.Bool(m.truncated);
  w.String(m.next_start_after);
}

Result<ListObjectsResponse> DecodeListObjectsResponse(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ListObjectsResponse m;
  ASSIGN_OR_RETURN(uint32_t objects, ReadCount(r));
  for (uint32_t i = 0; i < objects; i++) {
    ASSIGN_OR_RETURN(std::string name, r.String(kNameBytesMax));
    ASSIGN_OR_RETURN(ObjectRecord record, ReadObjectRecord(r));
    m.objects.emplace_back(std::move(name), std::move(record));
  }
  ASSIGN_OR_RETURN(uint32_t prefixes, ReadCount(r));
  for (uint32_t i = 0; i < prefixes; i++) {
    ASSIGN_OR_RETURN(std::string prefix, r.String(kNameBytesMax));
    m.common_prefixes.push_back(std::move(prefix));
  }
  ASSIGN_OR_RETURN(m.truncated, r.Bool());
  ASSIGN_OR_RETURN(m.next_start_after, r.String(kNameBytesMax));
  RETURN_IF_ERROR(r.ExpectEnd());
  return m;
}

}  // namespace cerulean::meta
