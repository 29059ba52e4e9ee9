// The Azure gateway's service and container operations: List Containers, Get Account
// Information, Create / Delete Container, container properties and metadata, List Blobs.
#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "azure/azure_request.h"
#include "gateway/http_dates.h"

namespace cerulean::azure {
namespace {

using http::HttpExchange;
using http::HttpHeaders;

constexpr size_t kListResultsMax = 5000;

std::string XmlText(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

pugi::xml_node Root(pugi::xml_document& document, const char* name) {
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "utf-8";
  return document.append_child(name);
}

void Text(pugi::xml_node parent, const char* name, std::string_view value) {
  parent.append_child(name).text().set(std::string(value).c_str());
}

// maxresults: 1..5000, 5000 when absent; nothing for a bad value.
std::optional<size_t> MaxResults(const AzureGateway::Request& request) {
  const std::string* text = request.Param("maxresults");
  if (text == nullptr) return kListResultsMax;
  if (text->empty() || text->size() > 9 || text->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const size_t value = std::stoul(*text);
  if (value == 0) return std::nullopt;
  return std::min(value, kListResultsMax);
}

bool Includes(const AzureGateway::Request& request, std::string_view what) {
  const std::string* include = request.Param("include");
  if (include == nullptr) return false;
  std::string_view list = *include;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == what) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// A successful write's answer: the container's ETag and time.
Task<void> RespondWithContainer(client::ClientCore& objects, HttpExchange& exchange, const AzureGateway::Request& request,
                                int status) {
  auto container = co_await objects.GetContainer(request.container);
  const int64_t created_ns = container.ok() ? container->created_unix_ns : 0;
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("ETag", ContainerEtag(created_ns));
  headers.emplace_back("Last-Modified", gateway::HttpTime(created_ns));
  (void)co_await exchange.Respond(status, std::move(headers), "");
}

void AddMetadata(pugi::xml_node parent, const UserMetadata& metadata) {
  pugi::xml_node node = parent.append_child("Metadata");
  for (const auto& [name, value] : metadata) Text(node, name.c_str(), value);
}

}  // namespace

Task<void> AzureGateway::ListContainers(HttpExchange& exchange, Request& request) {
  const std::optional<size_t> max_results = MaxResults(request);
  if (!max_results) {
    co_await SendError(exchange, request, AzureError(400, "InvalidQueryParameterValue", "maxresults must be 1 to 5000"));
    co_return;
  }
  const std::string prefix = request.Param("prefix") != nullptr ? *request.Param("prefix") : "";
  const std::string marker = request.Param("marker") != nullptr ? *request.Param("marker") : "";
  auto containers = co_await objects_.ListContainers(prefix);
  if (!containers.ok()) {
    co_await SendError(exchange, request, ErrorOf(containers.status(), true));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "EnumerationResults");
  root.append_attribute("ServiceEndpoint") = (request.endpoint + "/").c_str();
  if (!prefix.empty()) Text(root, "Prefix", prefix);
  if (!marker.empty()) Text(root, "Marker", marker);
  if (request.Param("maxresults") != nullptr) Text(root, "MaxResults", std::to_string(*max_results));
  pugi::xml_node list = root.append_child("Containers");
  size_t listed = 0;
  std::string next_marker;
  for (const ContainerInfo& container : *containers) {  // in name order
    if (!marker.empty() && container.name < marker) continue;
    if (listed == *max_results) {
      next_marker = container.name;  // the marker is the first name of the next page
      break;
    }
    listed++;
    pugi::xml_node node = list.append_child("Container");
    Text(node, "Name", container.name);
    pugi::xml_node properties = node.append_child("Properties");
    Text(properties, "Last-Modified", gateway::HttpTime(container.created_unix_ns));
    Text(properties, "Etag", ContainerEtag(container.created_unix_ns));
    Text(properties, "LeaseStatus", "unlocked");
    Text(properties, "LeaseState", "available");
    if (container.public_read) Text(properties, "PublicAccess", container.public_list ? "container" : "blob");
    Text(properties, "HasImmutabilityPolicy", "false");
    Text(properties, "HasLegalHold", "false");
    if (Includes(request, "metadata")) AddMetadata(node, container.metadata);
  }
  Text(root, "NextMarker", next_marker);
  const std::string body = XmlText(document);  // named: g++ 12 frees temporaries in co_await twice
  co_await SendXml(exchange, request, 200, body);
}

Task<void> AzureGateway::AccountInfo(HttpExchange& exchange, Request& request) {
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("x-ms-sku-name", "Standard_LRS");
  headers.emplace_back("x-ms-account-kind", "StorageV2");
  headers.emplace_back("x-ms-is-hns-enabled", "false");
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> AzureGateway::CreateContainer(HttpExchange& exchange, Request& request) {
  ContainerOptions options;
  std::optional<UserMetadata> metadata = co_await MetadataOrRefuse(exchange, request);
  if (!metadata) co_return;
  options.metadata = std::move(*metadata);
  if (const std::string* access = request.Header("x-ms-blob-public-access")) {
    if (*access != "container" && *access != "blob") {
      co_await SendError(exchange, request,
                         AzureError(400, "InvalidHeaderValue", "x-ms-blob-public-access must be 'container' or 'blob'"));
      co_return;
    }
    options.public_read = true;
    options.public_list = *access == "container";
  }
  Status created = co_await objects_.CreateContainer(request.container, options);
  if (!created.ok()) {
    co_await SendError(exchange, request, ErrorOf(created, true));
    co_return;
  }
  co_await RespondWithContainer(objects_, exchange, request, 201);
}

Task<void> AzureGateway::DeleteContainer(HttpExchange& exchange, Request& request) {
  // Azure deletes a container with its blobs; the object layer deletes only empty containers,
  // so the blobs go first, a page at a time.
  ListOptions options;
  options.page_size = 1000;
  while (true) {
    auto page = co_await objects_.ListPage(request.container, options);
    if (!page.ok()) {
      co_await SendError(exchange, request, ErrorOf(page.status(), true));
      co_return;
    }
    const ReadConditions none;  // named: g++ 12 frees temporaries in co_await twice
    for (const ObjectInfo& object : page->objects) {
      Status deleted = co_await objects_.Delete(request.container, object.name, none);
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
        co_await SendError(exchange, request, ErrorOf(deleted, true));
        co_return;
      }
    }
    if (!page->truncated) break;
    options.start_after = page->next_start_after;
  }
  Status deleted = co_await objects_.DeleteContainer(request.container);
  if (!deleted.ok()) {
    co_await SendError(exchange, request, ErrorOf(deleted, true));
    co_return;
  }
  HttpHeaders headers = BaseHeaders(request);
  (void)co_await exchange.Respond(202, std::move(headers), "");
}

Task<void> AzureGateway::ContainerProperties(HttpExchange& exchange, Request& request) {
  auto container = co_await objects_.GetContainer(request.container);
  if (!container.ok()) {
    co_await SendError(exchange, request, ErrorOf(container.status(), true));
    co_return;
  }
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("ETag", ContainerEtag(container->created_unix_ns));
  headers.emplace_back("Last-Modified", gateway::HttpTime(container->created_unix_ns));
  if (container->public_read) headers.emplace_back("x-ms-blob-public-access", container->public_list ? "container" : "blob");
  if (request.ParamIs("comp", "acl")) {
    // No stored access policies: an empty list, and the public access level above.
    pugi::xml_document document;
    Root(document, "SignedIdentifiers");
    headers.emplace_back("Content-Type", "application/xml");
    const std::string body = XmlText(document);
    (void)co_await exchange.Respond(200, std::move(headers), body);
    co_return;
  }
  AddMetadataHeaders(container->metadata, headers);
  headers.emplace_back("x-ms-lease-status", "unlocked");
  headers.emplace_back("x-ms-lease-state", "available");
  headers.emplace_back("x-ms-has-immutability-policy", "false");
  headers.emplace_back("x-ms-has-legal-hold", "false");
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> AzureGateway::SetContainerMetadata(HttpExchange& exchange, Request& request) {
  std::optional<UserMetadata> metadata = co_await MetadataOrRefuse(exchange, request);
  if (!metadata) co_return;
  Status set = co_await objects_.SetContainerMetadata(request.container, *metadata);
  if (!set.ok()) {
    co_await SendError(exchange, request, ErrorOf(set, true));
    co_return;
  }
  co_await RespondWithContainer(objects_, exchange, request, 200);
}

Task<void> AzureGateway::ListBlobs(HttpExchange& exchange, Request& request) {
  const std::optional<size_t> max_results = MaxResults(request);
  if (!max_results) {
    co_await SendError(exchange, request, AzureError(400, "InvalidQueryParameterValue", "maxresults must be 1 to 5000"));
    co_return;
  }
  ListOptions options;
  if (const std::string* prefix = request.Param("prefix")) options.prefix = *prefix;
  if (const std::string* delimiter = request.Param("delimiter")) options.delimiter = *delimiter;
  // The marker is opaque to clients; ours is the last name (or common prefix) of the page before.
  if (const std::string* marker = request.Param("marker")) options.start_after = *marker;
  options.page_size = static_cast<uint32_t>(*max_results);
  auto page = co_await objects_.ListPage(request.container, options);
  if (!page.ok()) {
    co_await SendError(exchange, request, ErrorOf(page.status(), true));
    co_return;
  }
  const bool with_metadata = Includes(request, "metadata");
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "EnumerationResults");
  root.append_attribute("ServiceEndpoint") = (request.endpoint + "/").c_str();
  root.append_attribute("ContainerName") = request.container.c_str();
  if (!options.prefix.empty()) Text(root, "Prefix", options.prefix);
  if (request.Param("marker") != nullptr) Text(root, "Marker", options.start_after);
  if (request.Param("maxresults") != nullptr) Text(root, "MaxResults", std::to_string(*max_results));
  if (!options.delimiter.empty()) Text(root, "Delimiter", options.delimiter);
  pugi::xml_node blobs = root.append_child("Blobs");
  // Blobs and prefixes interleave in name order.
  size_t next_prefix = 0;
  const auto add_prefixes_before = [&](const std::string* name) {
    while (next_prefix < page->common_prefixes.size() && (name == nullptr || page->common_prefixes[next_prefix] < *name)) {
      Text(blobs.append_child("BlobPrefix"), "Name", page->common_prefixes[next_prefix++]);
    }
  };
  for (const ObjectInfo& object : page->objects) {
    add_prefixes_before(&object.name);
    pugi::xml_node blob = blobs.append_child("Blob");
    Text(blob, "Name", object.name);
    pugi::xml_node properties = blob.append_child("Properties");
    Text(properties, "Creation-Time", gateway::HttpTime(object.created_unix_ns));
    Text(properties, "Last-Modified", gateway::HttpTime(object.modified_unix_ns));
    // Unquoted inside listings, as the service and its emulator write them.
    std::string_view etag = object.etag;
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    Text(properties, "Etag", etag);
    Text(properties, "Content-Length", std::to_string(object.size));
    Text(properties, "Content-Type", object.content_type);
    Text(properties, "Content-Encoding", object.headers.content_encoding);
    Text(properties, "Content-Language", object.headers.content_language);
    Text(properties, "Content-MD5", object.headers.content_md5);
    Text(properties, "Content-Disposition", object.headers.content_disposition);
    Text(properties, "Cache-Control", object.headers.cache_control);
    Text(properties, "BlobType", "BlockBlob");
    Text(properties, "AccessTier", "Hot");
    Text(properties, "AccessTierInferred", "true");
    Text(properties, "LeaseStatus", "unlocked");
    Text(properties, "LeaseState", "available");
    Text(properties, "ServerEncrypted", "false");
    if (with_metadata) AddMetadata(blob, object.metadata);
  }
  add_prefixes_before(nullptr);
  Text(root, "NextMarker", page->truncated ? page->next_start_after : "");
  const std::string body = XmlText(document);  // named: g++ 12 frees temporaries in co_await twice
  co_await SendXml(exchange, request, 200, body);
}

}  // namespace cerulean::azure
