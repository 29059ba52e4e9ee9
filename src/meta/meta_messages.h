// Wire messages of the meta service (docs/protocols/metadata.md). Both the service and its
// clients include this header; the field order below is the encoding. Records travel in their
// stored encoding (meta_records.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "meta/meta_records.h"
#include "rpc/frame.h"
#include "rpc/wire.h"

namespace cerulean::meta {

inline constexpr uint16_t kMetaService = 4;
inline constexpr uint32_t kCreateContainerMethod = rpc::MethodId(kMetaService, 1);
inline constexpr uint32_t kDeleteContainerMethod = rpc::MethodId(kMetaService, 2);
inline constexpr uint32_t kGetContainerMethod = rpc::MethodId(kMetaService, 3);
inline constexpr uint32_t kListContainersMethod = rpc::MethodId(kMetaService, 4);
inline constexpr uint32_t kSetContainerMetadataMethod = rpc::MethodId(kMetaService, 5);
inline constexpr uint32_t kHeadObjectMethod = rpc::MethodId(kMetaService, 6);
inline constexpr uint32_t kDeleteObjectMethod = rpc::MethodId(kMetaService, 7);
inline constexpr uint32_t kListObjectsMethod = rpc::MethodId(kMetaService, 8);

// Create; delete and get name only the container (the rest is empty).
struct ContainerRequest {
  std::string name;
  ContainerRecord record;  // create: its settings; set metadata: the new metadata
};

struct ContainerResponse {
  ContainerRecord record;
};

struct ListContainersRequest {
  std::string prefix;
  std::string start_after;
  uint32_t max_results = 1000;
};

struct ListContainersResponse {
  std::vector<std::pair<std::string, ContainerRecord>> containers;
  bool truncated = false;
  std::string next_start_after;
};

// Head and delete.
struct ObjectRequest {
  std::string container;
  std::string name;
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
};

struct ObjectResponse {
  ObjectRecord record;
};

struct ListObjectsRequest {
  std::string container;
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  uint32_t max_results = 1000;
};

struct ListObjectsResponse {
  std::vector<std::pair<std::string, ObjectRecord>> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_start_after;
};

void Encode(const ContainerRequest& m, rpc::WireWriter& w);
Result<ContainerRequest> DecodeContainerRequest(std::span<const std::byte> bytes);
void Encode(const ContainerResponse& m, rpc::WireWriter& w);
Result<ContainerResponse> DecodeContainerResponse(std::span<const std::byte> bytes);
void Encode(const ListContainersRequest& m, rpc::WireWriter& w);
Result<ListContainersRequest> DecodeListContainersRequest(std::span<const std::byte> bytes);
void Encode(const ListContainersResponse& m, rpc::WireWriter& w);
Result<ListContainersResponse> DecodeListContainersResponse(std::span<const std::byte> bytes);
void Encode(const ObjectRequest& m, rpc::WireWriter& w);
Result<ObjectRequest> DecodeObjectRequest(std::span<const std::byte> bytes);
void Encode(const ObjectResponse& m, rpc::WireWriter& w);
Result<ObjectResponse> DecodeObjectResponse(std::span<const std::byte> bytes);
void Encode(const ListObjectsRequest& m, rpc::WireWriter& w);
Result<ListObjectsRequest> DecodeListObjectsRequest(std::span<const std::byte> bytes);
void Encode(const ListObjectsResponse& m, rpc::WireWriter& w);
Result<ListObjectsResponse> DecodeListObjectsResponse(std::span<const std::byte> bytes);

}  // namespace cerulean::meta
