#include "azure/azure_request.h"

#include <ctime>

#include <fmt/format.h>
#include <pugixml.hpp>

#include <sstream>

#include "gateway/http_dates.h"

namespace cerulean::azure {

AzureError ErrorOf(const Status& status, bool container_level) {
  const std::string message(status.message());
  switch (status.code()) {
    case StatusCode::kNotFound:
      if (container_level || message.starts_with("container")) {
        return AzureError(404, "ContainerNotFound", "The specified container does not exist.");
      }
      return AzureError(404, "BlobNotFound", "The specified blob does not exist.");
    case StatusCode::kAlreadyExists:
      return AzureError(409, "ContainerAlreadyExists", "The specified container already exists.");
    case StatusCode::kFailedPrecondition:
      return AzureError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.");
    case StatusCode::kInvalidArgument:
      return AzureError(400, container_level ? "InvalidResourceName" : "InvalidInput", message);
    case StatusCode::kOutOfRange: return AzureError(413, "RequestBodyTooLarge", message);
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted: return AzureError(503, "ServerBusy", message);
    default: return AzureError(500, "InternalError", message);
  }
}

http::HttpHeaders BaseHeaders(const AzureGateway::Request& request) {
  http::HttpHeaders headers = {{"x-ms-request-id", request.request_id},
                               {"x-ms-version", request.version},
                               {"Date", gateway::HttpTime(static_cast<int64_t>(std::time(nullptr)) * 1'000'000'000)}};
  if (const std::string* id = request.Header("x-ms-client-request-id")) headers.emplace_back("x-ms-client-request-id", *id);
  return headers;
}

Task<void> SendError(http::HttpExchange& exchange, const AzureGateway::Request& request, AzureError error) {
  pugi::xml_document document;
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "utf-8";
  pugi::xml_node root = document.append_child("Error");
  root.append_child("Code").text().set(error.code.c_str());
  const std::string message =
      fmt::format("{}\nRequestId:{}\nTime:{}", error.message, request.request_id,
                  gateway::IsoTime(static_cast<int64_t>(std::time(nullptr)) * 1'000'000'000));
  root.append_child("Message").text().set(message.c_str());
  if (!error.detail.empty()) root.append_child("AuthenticationErrorDetail").text().set(error.detail.c_str());
  std::ostringstream out;
  document.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  http::HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("x-ms-error-code", error.code);
  headers.emplace_back("Content-Type", "application/xml");
  (void)co_await exchange.Respond(error.status, std::move(headers), out.str());
}

Task<void> SendXml(http::HttpExchange& exchange, const AzureGateway::Request& request, int status, std::string body) {
  http::HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("Content-Type", "application/xml");
  (void)co_await exchange.Respond(status, std::move(headers), body);
}

Result<UserMetadata> MetadataOf(const AzureGateway::Request& request) {
  UserMetadata metadata;
  const auto& headers = request.signed_request.headers;
  for (size_t i = 0; i < headers.size(); i++) {
    if (!headers[i].first.starts_with("x-ms-meta-")) continue;
    const std::string& as_sent = i < request.header_names_as_sent.size() ? request.header_names_as_sent[i] : headers[i].first;
    const std::string name = as_sent.substr(10);
    const bool identifier =
        !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
    if (!identifier) {
      return Status::InvalidArgument(
          fmt::format("the metadata name '{}' is not a C# identifier (letters, digits and '_', not starting with a digit)", name));
    }
    metadata.emplace_back(name, headers[i].second);
  }
  return metadata;
}

Task<std::optional<UserMetadata>> MetadataOrRefuse(http::HttpExchange& exchange, const AzureGateway::Request& request) {
  Result<UserMetadata> metadata = MetadataOf(request);
  if (metadata.ok()) co_return std::move(*metadata);
  AzureError error(400, "InvalidMetadata", std::string(metadata.status().message()));
  co_await SendError(exchange, request, std::move(error));
  co_return std::nullopt;
}

http::HttpHeaders BlobHeaders(const AzureGateway::Request& request, const ObjectInfo& blob) {
  http::HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("ETag", blob.etag);
  headers.emplace_back("Last-Modified", gateway::HttpTime(blob.modified_unix_ns));
  return headers;
}

void AddMetadataHeaders(const UserMetadata& metadata, http::HttpHeaders& headers) {
  for (const auto& [name, value] : metadata) headers.emplace_back("x-ms-meta-" + name, value);
}

std::string ContainerEtag(int64_t created_unix_ns) {
  return fmt::format("\"0x{:X}\"", static_cast<uint64_t>(created_unix_ns) / 100 + 0x8D000000000000ull);
}

Result<BlobConditions> ConditionsOf(const AzureGateway::Request& request) {
  BlobConditions conditions;
  if (const std::string* value = request.Header("if-match")) conditions.if_match = *value;
  if (const std::string* value = request.Header("if-none-match")) conditions.if_none_match = *value;
  for (const auto& [name, into] : {std::pair{"if-modified-since", &conditions.if_modified_since},
                                   std::pair{"if-unmodified-since", &conditions.if_unmodified_since}}) {
    if (const std::string* value = request.Header(name)) {
      auto seconds = gateway::ParseHttpTime(*value);
      if (!seconds.ok()) return Status::InvalidArgument(fmt::format("{}: {}", name, seconds.status().message()));
      *into = *seconds;
    }
  }
  return conditions;
}

namespace {

std::string_view Bare(std::string_view etag) {
  while (!etag.empty() && etag.front() == ' ') etag.remove_prefix(1);
  while (!etag.empty() && etag.back() == ' ') etag.remove_suffix(1);
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

// Whether `list` ("*" or comma-separated ETags) names `etag`.
bool EtagListMatches(std::string_view list, std::string_view etag) {
  if (Bare(list) == "*") return true;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (Bare(list.substr(0, comma)) == Bare(etag)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int64_t ModifiedSeconds(const ObjectInfo& blob) { return blob.modified_unix_ns / 1'000'000'000; }

}  // namespace

// As RFC 7232 orders them: a date condition counts only without its ETag counterpart.
int EvaluateRead(const BlobConditions& conditions, const ObjectInfo& blob) {
  if (conditions.if_match && !EtagListMatches(*conditions.if_match, blob.etag)) return 412;
  if (!conditions.if_match && conditions.if_unmodified_since && ModifiedSeconds(blob) > *conditions.if_unmodified_since) {
    return 412;
  }
  if (conditions.if_none_match && EtagListMatches(*conditions.if_none_match, blob.etag)) return 304;
  if (!conditions.if_none_match && conditions.if_modified_since && ModifiedSeconds(blob) <= *conditions.if_modified_since) {
    return 304;
  }
  return 0;
}

int EvaluateWrite(const BlobConditions& conditions, const ObjectInfo* blob, bool creates) {
  if (blob == nullptr) return conditions.if_match ? 412 : 0;
  if (conditions.if_none_match && Bare(*conditions.if_none_match) == "*") return creates ? 409 : 412;
  if (conditions.if_match && !EtagListMatches(*conditions.if_match, blob->etag)) return 412;
  if (conditions.if_none_match && EtagListMatches(*conditions.if_none_match, blob->etag)) return 412;
  if (!conditions.if_match && conditions.if_unmodified_since && ModifiedSeconds(*blob) > *conditions.if_unmodified_since) {
    return 412;
  }
  if (!conditions.if_none_match && conditions.if_modified_since && ModifiedSeconds(*blob) <= *conditions.if_modified_since) {
    return 412;
  }
  return 0;
}

}  // namespace cerulean::azure
