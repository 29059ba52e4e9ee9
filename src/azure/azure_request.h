// What the Azure gateway's files share (azure_gateway.cc, azure_containers.cc, azure_blobs.cc):
// a parsed request, the error response, the common headers, metadata and conditions. Internal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "azure/azure_gateway.h"
#include "azure/shared_key.h"
#include "cerulean/client.h"

namespace cerulean::azure {

struct AzureGateway::Request {
  AzureRequest signed_request;  // method, path as sent, decoded query, lowercase headers
  std::vector<std::string> header_names_as_sent;
  std::string container;  // decoded; empty for the service
  std::string blob;       // decoded; empty for a container or the service
  std::string request_id;
  std::string version;     // the x-ms-version answered
  std::string endpoint;    // "http://host/account", for listings' ServiceEndpoint
  std::optional<Sas> sas;  // the request's SAS, checked
  bool create_only = false;  // its SAS may create a blob, not replace one
  bool anonymous = false;

  const std::string* Param(std::string_view name) const { return gateway::Find(signed_request.query, name); }
  const std::string* Header(std::string_view name) const { return gateway::Find(signed_request.headers, name); }
  bool ParamIs(std::string_view name, std::string_view value) const {
    const std::string* found = Param(name);
    return found != nullptr && *found == value;
  }
  const std::string& method() const { return signed_request.method; }
};

// Not an aggregate: g++ 12 frees the strings of a braced aggregate temporary passed by value to
// a coroutine twice (docs/ARCHITECTURE.md, "Compiler notes").
struct AzureError {
  AzureError(int s, std::string c, std::string m, std::string d = "")
      : status(s), code(std::move(c)), message(std::move(m)), detail(std::move(d)) {}
  int status;
  std::string code;
  std::string message;
  std::string detail;  // AuthenticationErrorDetail
};

// A Status of the object client as the blob service's error.
AzureError ErrorOf(const Status& status, bool container_level);

// x-ms-request-id, x-ms-version, Date and the client's request id, which every response has.
http::HttpHeaders BaseHeaders(const AzureGateway::Request& request);
Task<void> SendError(http::HttpExchange& exchange, const AzureGateway::Request& request, AzureError error);
Task<void> SendXml(http::HttpExchange& exchange, const AzureGateway::Request& request, int status, std::string body);

// x-ms-meta-* headers (names as sent); InvalidArgument for a name that is not a C# identifier.
Result<UserMetadata> MetadataOf(const AzureGateway::Request& request);
// MetadataOf, or nothing once it has answered 400 InvalidMetadata.
Task<std::optional<UserMetadata>> MetadataOrRefuse(http::HttpExchange& exchange, const AzureGateway::Request& request);
// The common headers and the blob's version: ETag and Last-Modified.
http::HttpHeaders BlobHeaders(const AzureGateway::Request& request, const ObjectInfo& blob);
void AddMetadataHeaders(const UserMetadata& metadata, http::HttpHeaders& headers);

// "0x8D…": ETag-like text for things without an ETag of their own (containers).
std::string ContainerEtag(int64_t created_unix_ns);

// The conditional headers: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.
struct BlobConditions {
  std::optional<std::string> if_match;
  std::optional<std::string> if_none_match;
  std::optional<int64_t> if_modified_since;    // seconds
  std::optional<int64_t> if_unmodified_since;  // seconds
  bool any() const { return if_match || if_none_match || if_modified_since || if_unmodified_since; }
};
Result<BlobConditions> ConditionsOf(const AzureGateway::Request& request);
// A read's conditions against the blob: 0 to go on, 304 or 412.
int EvaluateRead(const BlobConditions& conditions, const ObjectInfo& blob);
// A write's conditions against the blob, if any: 0 to go on, 412, or 409 for If-None-Match: *
// on a blob that exists when the write `creates` it.
int EvaluateWrite(const BlobConditions& conditions, const ObjectInfo* blob, bool creates);

}  // namespace cerulean::azure
