// The Azure gateway's blob operations: Put Blob, Put Block, Put Block List, Get Block List,
// Get Blob (and its properties), blob metadata and properties, Delete Blob.
#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "azure/azure_request.h"
#include "base/md5.h"
#include "gateway/body_upload.h"
#include "gateway/byte_range.h"
#include "gateway/http_dates.h"
#include "gateway/object_copy.h"
#include "gateway/object_stream.h"

namespace cerulean::azure {
namespace {

using http::HttpExchange;
using http::HttpHeaders;

constexpr uint64_t kPutBlobBytesMax = 5000ull << 20;
constexpr uint64_t kBlockBytesMax = 4000ull << 20;
constexpr size_t kCommittedBlocksMax = 50'000;
constexpr size_t kBlockIdBytesMax = 64;  // decoded
constexpr uint64_t kRangeMd5BytesMax = 4ull << 20;
// A block blob's blocks are staged under the object's implicit upload.
const std::string kImplicitUpload;

class ExchangeBody : public gateway::BodySource {
 public:
  explicit ExchangeBody(HttpExchange& exchange) : exchange_(exchange) {}
  Task<Result<size_t>> Read(std::span<std::byte> into) override { return exchange_.ReadBody(into); }

 private:
  HttpExchange& exchange_;
};

// The blob's content type and headers from x-ms-blob-content-* (Put Blob also takes the plain
// Content-Type of its body).
void ContentOf(const AzureGateway::Request& request, bool body_headers, std::string& content_type, ContentHeaders& headers) {
  if (const std::string* value = request.Header("x-ms-blob-content-type")) {
    content_type = *value;
  } else if (const std::string* plain = request.Header("content-type"); body_headers && plain != nullptr) {
    content_type = *plain;
  }
  const std::pair<const char*, std::string*> fields[] = {{"x-ms-blob-content-encoding", &headers.content_encoding},
                                                         {"x-ms-blob-content-language", &headers.content_language},
                                                         {"x-ms-blob-content-disposition", &headers.content_disposition},
                                                         {"x-ms-blob-cache-control", &headers.cache_control},
                                                         {"x-ms-blob-content-md5", &headers.content_md5}};
  for (const auto& [name, into] : fields) {
    if (const std::string* value = request.Header(name)) *into = *value;
  }
}

// An error of the object layer on a write: a failed condition is 409 BlobAlreadyExists when a
// creating write said If-None-Match: * (or its SAS may only create), else 412.
AzureError WriteErrorOf(const Status& status, const AzureGateway::Request& request, bool creates) {
  if (status.code() == StatusCode::kFailedPrecondition && creates) {
    const std::string* none = request.Header("if-none-match");
    if ((none != nullptr && *none == "*") || request.create_only) {
      return AzureError(409, "BlobAlreadyExists", "The specified blob already exists.");
    }
  }
  if (status.code() == StatusCode::kInvalidArgument && status.message().starts_with("block '")) {
    return AzureError(400, "InvalidBlockList", fmt::format("The specified block list is invalid: {}", status.message()));
  }
  return ErrorOf(status, false);
}

// Evaluates the request's conditions against the blob as it is, and turns them into the object
// layer's atomic check (the blob must still be that version, or still be absent), so that a
// write racing another cannot pass on a stale answer. False once it has answered.
// `creates`: the write makes or replaces the blob (Put Blob, Put Block List, Copy Blob), where a
// failed If-None-Match: * means the blob already exists (409); elsewhere it is 412.
Task<bool> PrepareWrite(client::ClientCore& objects, HttpExchange& exchange, const AzureGateway::Request& request,
                        bool creates, std::optional<std::string>& if_match, std::optional<std::string>& if_none_match) {
  auto conditions = ConditionsOf(request);
  if (!conditions.ok()) {
    co_await SendError(exchange, request, AzureError(400, "InvalidHeaderValue", std::string(conditions.status().message())));
    co_return false;
  }
  if (creates && request.create_only) conditions->if_none_match = "*";  // a SAS that may create, not replace
  if (!conditions->any()) co_return true;
  const ReadConditions none;  // named: g++ 12 frees temporaries in co_await twice
  auto current = co_await objects.Head(request.container, request.blob, none);
  if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
    co_await SendError(exchange, request, ErrorOf(current.status(), false));
    co_return false;
  }
  if (!current.ok() && current.status().message().starts_with("container")) {
    co_await SendError(exchange, request, ErrorOf(current.status(), true));
    co_return false;
  }
  const int verdict = EvaluateWrite(*conditions, current.ok() ? &*current : nullptr, creates);
  if (verdict == 409) {
    co_await SendError(exchange, request, AzureError(409, "BlobAlreadyExists", "The specified blob already exists."));
    co_return false;
  }
  if (verdict == 412) {
    co_await SendError(exchange, request,
                       AzureError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met."));
    co_return false;
  }
  if (current.ok()) {
    if_match = current->etag;
  } else {
    if_none_match = "*";
  }
  co_return true;
}

// Reads the body into pieces and checks its Content-MD5; false once it has answered.
Task<bool> ReceiveBlobBody(client::ClientCore& objects, HttpExchange& exchange, const AzureGateway::Request& request,
                           uint64_t size_max, uint64_t piece_bytes, gateway::ReceivedBody& body) {
  const http::HttpRequest& http_request = exchange.request();
  if (http_request.content_length && *http_request.content_length > size_max) {
    exchange.CloseAfter();
    co_await SendError(exchange, request,
                       AzureError(413, "RequestBodyTooLarge",
                                  fmt::format("The request body is too large and exceeds the maximum permissible limit ({} bytes).", size_max)));
    co_return false;
  }
  ExchangeBody source(exchange);
  gateway::BodyUploadOptions options;
  options.piece_bytes = piece_bytes;
  options.size_max = size_max;
  body = co_await gateway::ReceiveIntoPieces(objects, request.container, request.blob, source, options);
  if (!body.status.ok()) {
    exchange.CloseAfter();  // the rest of the body is not read
    AzureError error = !body.client_failed ? ErrorOf(body.status, false)
                       : body.status.code() == StatusCode::kOutOfRange
                           ? AzureError(413, "RequestBodyTooLarge", std::string(body.status.message()))
                           : AzureError(400, "InvalidInput", fmt::format("The request body was cut short: {}", body.status.message()));
    co_await SendError(exchange, request, std::move(error));
    co_return false;
  }
  if (const std::string* md5 = request.Header("content-md5"); md5 != nullptr && *md5 != gateway::Base64Encode(body.md5)) {
    co_await SendError(exchange, request,
                       AzureError(400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server."));
    co_return false;
  }
  co_return true;
}

// x-ms-copy-source: a URL of a blob of this account, path style or host style; any query (a
// SAS) is ignored: the copy is authorised by the request's own credentials.
Result<std::pair<std::string, std::string>> ParseCopySource(std::string_view url, std::string_view account) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return Status::InvalidArgument("x-ms-copy-source is not a URL");
  std::string_view rest = url.substr(scheme + 3);
  const size_t path_start = rest.find('/');
  if (path_start == std::string_view::npos) return Status::InvalidArgument("x-ms-copy-source names no blob");
  const std::string host = gateway::Lower(rest.substr(0, path_start));
  std::string_view path = rest.substr(path_start + 1);
  path = path.substr(0, path.find('?'));
  ASSIGN_OR_RETURN(std::string decoded, gateway::UriDecode(path));
  std::string_view name = decoded;
  if (name.starts_with(std::string(account) + "/")) {
    name.remove_prefix(account.size() + 1);
  } else if (!host.starts_with(std::string(account) + ".")) {
    return Status::InvalidArgument("x-ms-copy-source must be a blob of this account");
  }
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size()) {
    return Status::InvalidArgument("x-ms-copy-source names no blob");
  }
  return std::pair(std::string(name.substr(0, slash)), std::string(name.substr(slash + 1)));
}

}  // namespace

Task<void> AzureGateway::CopyBlob(HttpExchange& exchange, Request& request) {
  // Copies are synchronous: the bytes are copied before the answer, whose status is "success".
  if (request.sas && !(request.sas->account && request.sas->permissions.find('r') != std::string::npos &&
                       request.sas->resource_types.find('o') != std::string::npos)) {
    co_await SendError(exchange, request,
                       AzureError(403, "CannotVerifyCopySource",
                                  "A copy with a SAS needs an account SAS that may also read blobs."));
    co_return;
  }
  auto source = ParseCopySource(*request.Header("x-ms-copy-source"), credentials_.azure_account);
  if (!source.ok()) {
    co_await SendError(exchange, request, AzureError(400, "InvalidHeaderValue", std::string(source.status().message())));
    co_return;
  }
  const ReadConditions none;
  auto layout = co_await objects_.GetLayout(source->first, source->second, none);
  if (!layout.ok()) {
    AzureError error = layout.status().code() == StatusCode::kNotFound
                           ? AzureError(404, "CannotVerifyCopySource", "The specified copy source blob does not exist.")
                           : ErrorOf(layout.status(), false);
    co_await SendError(exchange, request, std::move(error));
    co_return;
  }
  const ObjectInfo info = client::ToObjectInfo(source->first, source->second, layout->record);
  PutOptions options;
  options.content_type = info.content_type;
  options.headers = info.headers;
  std::optional<UserMetadata> metadata = co_await MetadataOrRefuse(exchange, request);
  if (!metadata) co_return;
  options.metadata = metadata->empty() ? info.metadata : std::move(*metadata);  // given metadata replaces the source's
  if (!co_await PrepareWrite(objects_, exchange, request, true, options.if_match, options.if_none_match)) co_return;
  gateway::ReceivedBody body = co_await gateway::CopyIntoPieces(objects_, *layout, 0, info.size, request.container,
                                                                request.blob, options_.piece_bytes);
  if (!body.status.ok()) {
    co_await SendError(exchange, request, ErrorOf(body.status, false));
    co_return;
  }
  const std::string etag = body.etag();  // named: g++ 12 frees temporaries in co_await twice
  auto committed = co_await objects_.Commit(request.container, request.blob, std::move(body.upload), etag, body.size, options);
  if (!committed.ok()) {
    co_await SendError(exchange, request, WriteErrorOf(committed.status(), request, true));
    co_return;
  }
  HttpHeaders headers = BlobHeaders(request, *committed);
  headers.emplace_back("x-ms-copy-id", request.request_id);
  headers.emplace_back("x-ms-copy-status", "success");
  (void)co_await exchange.Respond(202, std::move(headers), "");
}

Task<void> AzureGateway::PutBlob(HttpExchange& exchange, Request& request) {
  const std::string* type = request.Header("x-ms-blob-type");
  if (type == nullptr || *type != "BlockBlob") {
    co_await SendError(exchange, request,
                       type == nullptr ? AzureError(400, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type.")
                                       : AzureError(400, "InvalidHeaderValue",
                                                    fmt::format("x-ms-blob-type {} is not supported: only BlockBlob", *type)));
    co_return;
  }
  PutOptions options;
  ContentOf(request, true, options.content_type, options.headers);
  std::optional<UserMetadata> metadata = co_await MetadataOrRefuse(exchange, request);
  if (!metadata) co_return;
  options.metadata = std::move(*metadata);
  if (!co_await PrepareWrite(objects_, exchange, request, true, options.if_match, options.if_none_match)) co_return;
  gateway::ReceivedBody body;
  if (!co_await ReceiveBlobBody(objects_, exchange, request, kPutBlobBytesMax, options_.piece_bytes, body)) co_return;
  const std::string md5 = gateway::Base64Encode(body.md5);
  if (options.headers.content_md5.empty()) options.headers.content_md5 = md5;
  const std::string etag = body.etag();
  auto committed = co_await objects_.Commit(request.container, request.blob, std::move(body.upload), etag, body.size, options);
  if (!committed.ok()) {
    co_await SendError(exchange, request, WriteErrorOf(committed.status(), request, true));
    co_return;
  }
  HttpHeaders headers = BlobHeaders(request, *committed);
  headers.emplace_back("Content-MD5", md5);
  headers.emplace_back("x-ms-request-server-encrypted", "false");
  (void)co_await exchange.Respond(201, std::move(headers), "");
}

Task<void> AzureGateway::PutBlock(HttpExchange& exchange, Request& request) {
  const std::string* block_id = request.Param("blockid");
  auto decoded = block_id != nullptr ? gateway::Base64Decode(*block_id) : Result<std::string>(Status::NotFound(""));
  if (!decoded.ok() || decoded->empty() || decoded->size() > kBlockIdBytesMax) {
    co_await SendError(exchange, request,
                       AzureError(400, "InvalidQueryParameterValue",
                                  "Value for one of the query parameters specified in the request URI is invalid: blockid must be "
                                  "base64 of 1 to 64 bytes."));
    co_return;
  }
  gateway::ReceivedBody body;
  if (!co_await ReceiveBlobBody(objects_, exchange, request, kBlockBytesMax, options_.piece_bytes, body)) co_return;
  const std::string etag = body.etag();
  Status staged = co_await objects_.StageBlock(request.container, request.blob, kImplicitUpload, *block_id,
                                               std::move(body.upload), etag, body.size);
  if (!staged.ok()) {
    co_await SendError(exchange, request, ErrorOf(staged, false));
    co_return;
  }
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("Content-MD5", gateway::Base64Encode(body.md5));
  headers.emplace_back("x-ms-request-server-encrypted", "false");
  (void)co_await exchange.Respond(201, std::move(headers), "");
}

Task<void> AzureGateway::PutBlockList(HttpExchange& exchange, Request& request) {
  auto text = co_await exchange.ReadBodyString(16 << 20);
  pugi::xml_document document;
  if (!text.ok() || !document.load_buffer(text->data(), text->size())) {
    co_await SendError(exchange, request, AzureError(400, "InvalidXmlDocument", "XML specified is not syntactically valid."));
    co_return;
  }
  if (const std::string* md5 = request.Header("content-md5")) {
    Md5 digest;
    digest.Update(std::as_bytes(std::span(text->data(), text->size())));
    if (*md5 != gateway::Base64Encode(digest.Finish())) {
      co_await SendError(exchange, request,
                         AzureError(400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server."));
      co_return;
    }
  }
  pugi::xml_node list = document.child("BlockList");
  if (!list) {
    co_await SendError(exchange, request, AzureError(400, "InvalidXmlDocument", "The body must be a BlockList."));
    co_return;
  }
  std::vector<BlockToCommit> blocks;
  for (pugi::xml_node node : list.children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view kind = node.name();
    BlockToCommit block;
    block.id = node.child_value();
    if (kind == "Latest") {
      block.source = BlockSource::kLatest;
    } else if (kind == "Committed") {
      block.source = BlockSource::kCommitted;
    } else if (kind == "Uncommitted") {
      block.source = BlockSource::kUncommitted;
    } else {
      co_await SendError(exchange, request,
                         AzureError(400, "InvalidXmlNodeValue", fmt::format("<{}> is not a block list entry", kind)));
      co_return;
    }
    blocks.push_back(std::move(block));
  }
  if (blocks.size() > kCommittedBlocksMax) {
    co_await SendError(exchange, request,
                       AzureError(400, "InvalidBlockList",
                                  fmt::format("The block list has {} blocks; a blob has at most {}.", blocks.size(), kCommittedBlocksMax)));
    co_return;
  }
  PutOptions options;
  ContentOf(request, false, options.content_type, options.headers);
  std::optional<UserMetadata> metadata = co_await MetadataOrRefuse(exchange, request);
  if (!metadata) co_return;
  options.metadata = std::move(*metadata);
  if (!co_await PrepareWrite(objects_, exchange, request, true, options.if_match, options.if_none_match)) co_return;
  auto committed = co_await objects_.CommitBlocks(request.container, request.blob, kImplicitUpload, blocks, options);
  if (!committed.ok()) {
    co_await SendError(exchange, request, WriteErrorOf(committed.status(), request, true));
    co_return;
  }
  HttpHeaders headers = BlobHeaders(request, *committed);
  headers.emplace_back("x-ms-request-server-encrypted", "false");
  (void)co_await exchange.Respond(201, std::move(headers), "");
}

Task<void> AzureGateway::GetBlockList(HttpExchange& exchange, Request& request) {
  const std::string type = request.Param("blocklisttype") != nullptr ? *request.Param("blocklisttype") : "committed";
  if (type != "committed" && type != "uncommitted" && type != "all") {
    co_await SendError(exchange, request,
                       AzureError(400, "InvalidQueryParameterValue", "blocklisttype must be committed, uncommitted or all"));
    co_return;
  }
  auto blocks = co_await objects_.ListBlocks(request.container, request.blob, kImplicitUpload);
  if (!blocks.ok()) {
    co_await SendError(exchange, request, ErrorOf(blocks.status(), false));
    co_return;
  }
  const ReadConditions none;
  auto blob = co_await objects_.Head(request.container, request.blob, none);
  if (!blob.ok() && (blob.status().code() != StatusCode::kNotFound || blocks->uncommitted.empty())) {
    co_await SendError(exchange, request, ErrorOf(blob.status(), false));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "utf-8";
  pugi::xml_node root = document.append_child("BlockList");
  const auto add = [](pugi::xml_node parent, const std::vector<StagedBlockInfo>& list) {
    for (const StagedBlockInfo& block : list) {
      pugi::xml_node node = parent.append_child("Block");
      node.append_child("Name").text().set(block.id.c_str());
      node.append_child("Size").text().set(std::to_string(block.size).c_str());
    }
  };
  pugi::xml_node committed = root.append_child("CommittedBlocks");
  pugi::xml_node uncommitted = root.append_child("UncommittedBlocks");
  if (type != "uncommitted") add(committed, blocks->committed);
  if (type != "committed") add(uncommitted, blocks->uncommitted);
  std::ostringstream out;
  document.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("Content-Type", "application/xml");
  if (blob.ok()) {
    headers.emplace_back("ETag", blob->etag);
    headers.emplace_back("Last-Modified", gateway::HttpTime(blob->modified_unix_ns));
  }
  headers.emplace_back("x-ms-blob-content-length", std::to_string(blob.ok() ? blob->size : 0));
  (void)co_await exchange.Respond(200, std::move(headers), out.str());
}

Task<void> AzureGateway::GetBlob(HttpExchange& exchange, Request& request) {
  const std::string what = fmt::format("azure: GET /{}/{}", request.container, request.blob);
  auto conditions = ConditionsOf(request);
  if (!conditions.ok()) {
    co_await SendError(exchange, request, AzureError(400, "InvalidHeaderValue", std::string(conditions.status().message())));
    co_return;
  }
  const ReadConditions none;
  auto layout = co_await objects_.GetLayout(request.container, request.blob, none);
  if (!layout.ok()) {
    co_await SendError(exchange, request, ErrorOf(layout.status(), false));
    co_return;
  }
  const ObjectInfo info = client::ToObjectInfo(request.container, request.blob, layout->record);
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("ETag", info.etag);
  headers.emplace_back("Last-Modified", gateway::HttpTime(info.modified_unix_ns));
  const int verdict = EvaluateRead(*conditions, info);
  if (verdict == 304) {
    headers.emplace_back("x-ms-error-code", "ConditionNotMet");  // the service's way; the SDKs read it
    (void)co_await exchange.Respond(304, std::move(headers), "");
    co_return;
  }
  if (verdict == 412) {
    co_await SendError(exchange, request,
                       AzureError(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met."));
    co_return;
  }
  // A SAS may override the response's content headers (rsct, rsce, ...).
  std::string content_type = info.content_type;
  ContentHeaders content = info.headers;
  if (request.sas) {
    const std::pair<const std::string*, std::string*> overrides[] = {{&request.sas->content_type, &content_type},
                                                                     {&request.sas->content_encoding, &content.content_encoding},
                                                                     {&request.sas->content_language, &content.content_language},
                                                                     {&request.sas->content_disposition, &content.content_disposition},
                                                                     {&request.sas->cache_control, &content.cache_control}};
    for (const auto& [value, into] : overrides) {
      if (!value->empty()) *into = *value;
    }
  }
  headers.emplace_back("Content-Type", content_type);
  const std::pair<const char*, const std::string*> stored[] = {{"Content-Encoding", &content.content_encoding},
                                                               {"Content-Language", &content.content_language},
                                                               {"Content-Disposition", &content.content_disposition},
                                                               {"Cache-Control", &content.cache_control}};
  for (const auto& [name, value] : stored) {
    if (!value->empty()) headers.emplace_back(name, *value);
  }
  headers.emplace_back("x-ms-creation-time", gateway::HttpTime(info.created_unix_ns));
  headers.emplace_back("x-ms-blob-type", "BlockBlob");
  headers.emplace_back("x-ms-lease-state", "available");
  headers.emplace_back("x-ms-lease-status", "unlocked");
  headers.emplace_back("x-ms-server-encrypted", "false");
  headers.emplace_back("Accept-Ranges", "bytes");
  if (request.method() == "HEAD") {
    headers.emplace_back("x-ms-access-tier", "Hot");
    headers.emplace_back("x-ms-access-tier-inferred", "true");
  }
  AddMetadataHeaders(info.metadata, headers);

  uint64_t first = 0, length = info.size;
  int status = 200;
  const std::string* range = request.Header("x-ms-range");  // overrides Range
  if (range == nullptr) range = request.Header("range");
  if (range != nullptr && request.method() == "GET") {
    auto parsed = gateway::ParseByteRange(*range, info.size);
    if (!parsed.ok()) {
      AzureError error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.");
      co_await SendError(exchange, request, std::move(error));
      co_return;
    }
    if (*parsed) {
      first = (*parsed)->first;
      length = (*parsed)->second - first + 1;
      status = 206;
      headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", first, (*parsed)->second, info.size));
    }
  }
  const std::string* range_md5 = request.Header("x-ms-range-get-content-md5");
  if (range_md5 != nullptr && *range_md5 == "true") {
    if (status != 206 || length > kRangeMd5BytesMax) {
      co_await SendError(exchange, request,
                         AzureError(400, "OutOfRangeInput", "x-ms-range-get-content-md5 needs a range of at most 4 MiB."));
      co_return;
    }
    // The range's own MD5 goes in the head, so the range is read before it.
    std::string bytes(length, '\0');
    auto read = co_await objects_.ReadWithLayout(*layout, first, std::as_writable_bytes(std::span(bytes.data(), bytes.size())));
    if (!read.ok() || *read != length) {
      co_await SendError(exchange, request, ErrorOf(read.ok() ? Status::Internal("short read") : read.status(), false));
      co_return;
    }
    Md5 digest;
    digest.Update(std::as_bytes(std::span(bytes.data(), bytes.size())));
    headers.emplace_back("Content-MD5", gateway::Base64Encode(digest.Finish()));
    if (!info.headers.content_md5.empty()) headers.emplace_back("x-ms-blob-content-md5", info.headers.content_md5);
    (void)co_await exchange.Respond(status, std::move(headers), bytes);
    co_return;
  }
  if (!info.headers.content_md5.empty()) {
    headers.emplace_back(status == 206 ? "x-ms-blob-content-md5" : "Content-MD5", info.headers.content_md5);
  }
  if (!(co_await exchange.BeginResponse(status, std::move(headers), length)).ok()) co_return;
  if (request.method() == "HEAD") co_return;
  co_await gateway::StreamObjectBody(objects_, exchange, *layout, first, length, options_.piece_bytes, what);
}

Task<void> AzureGateway::GetBlobMetadata(HttpExchange& exchange, Request& request) {
  const ReadConditions none;
  auto blob = co_await objects_.Head(request.container, request.blob, none);
  if (!blob.ok()) {
    co_await SendError(exchange, request, ErrorOf(blob.status(), false));
    co_return;
  }
  HttpHeaders headers = BlobHeaders(request, *blob);
  AddMetadataHeaders(blob->metadata, headers);
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> AzureGateway::SetBlobProperties(HttpExchange& exchange, Request& request) {
  // Every content property is replaced: one left out of the request is cleared, as the service does.
  PropertiesUpdate update;
  std::string content_type = "application/octet-stream";
  ContentOf(request, false, content_type, update.headers);
  update.content_type = content_type;
  ReadConditions atomic;
  if (!co_await PrepareWrite(objects_, exchange, request, false, atomic.if_match, atomic.if_none_match)) co_return;
  auto updated = co_await objects_.SetProperties(request.container, request.blob, update, atomic);
  if (!updated.ok()) {
    co_await SendError(exchange, request, WriteErrorOf(updated.status(), request, false));
    co_return;
  }
  HttpHeaders headers = BlobHeaders(request, *updated);
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> AzureGateway::SetBlobMetadata(HttpExchange& exchange, Request& request) {
  std::optional<UserMetadata> metadata = co_await MetadataOrRefuse(exchange, request);
  if (!metadata) co_return;
  PropertiesUpdate update;
  update.metadata = std::move(*metadata);
  ReadConditions atomic;
  if (!co_await PrepareWrite(objects_, exchange, request, false, atomic.if_match, atomic.if_none_match)) co_return;
  auto updated = co_await objects_.SetProperties(request.container, request.blob, update, atomic);
  if (!updated.ok()) {
    co_await SendError(exchange, request, WriteErrorOf(updated.status(), request, false));
    co_return;
  }
  HttpHeaders headers = BlobHeaders(request, *updated);
  headers.emplace_back("x-ms-request-server-encrypted", "false");
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> AzureGateway::DeleteBlob(HttpExchange& exchange, Request& request) {
  ReadConditions atomic;
  if (!co_await PrepareWrite(objects_, exchange, request, false, atomic.if_match, atomic.if_none_match)) co_return;
  if (atomic.if_none_match) {  // the condition passed for an absent blob: there is nothing to delete
    co_await SendError(exchange, request, AzureError(404, "BlobNotFound", "The specified blob does not exist."));
    co_return;
  }
  Status deleted = co_await objects_.Delete(request.container, request.blob, atomic);
  if (!deleted.ok()) {
    co_await SendError(exchange, request, WriteErrorOf(deleted, request, false));
    co_return;
  }
  HttpHeaders headers = BaseHeaders(request);
  headers.emplace_back("x-ms-delete-type-permanent", "true");
  (void)co_await exchange.Respond(202, std::move(headers), "");
}

}  // namespace cerulean::azure
