// The S3 gateway's multipart uploads: staged uploads of the object client, one staged block per
// part (docs/protocols/s3.md).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "gateway/body_upload.h"
#include "gateway/http_dates.h"
#include "s3/s3_request.h"

namespace cerulean::s3 {

using http::HttpExchange;
using http::HttpHeaders;
using gateway::IsoTime;

Task<void> S3Gateway::CreateMultipartUpload(HttpExchange& exchange, Request& request) {
  const PutOptions options = OptionsOf(request);  // named: g++ 12 frees temporaries in co_await twice
  auto upload_id = co_await objects_.CreateUpload(request.bucket, request.key, options);
  if (!upload_id.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(upload_id.status(), false));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "InitiateMultipartUploadResult");
  Text(root, "Bucket", request.bucket);
  Text(root, "Key", request.key);
  Text(root, "UploadId", *upload_id);
  co_await SendXml(exchange, request.request_id, document);
}

Task<void> S3Gateway::UploadPart(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  const uint32_t number = ParsePartNumber(*request.Param("partNumber"));
  if (number < 1 || number > kPartNumberMax) {
    co_await SendError(exchange, request.request_id, resource,
                       {400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"});
    co_return;
  }
  Received received;
  if (!co_await ReceiveBody(exchange, request, received)) co_return;
  Status staged = co_await objects_.StageBlock(request.bucket, request.key, *request.Param("uploadId"), PartId(number),
                                               std::move(received.upload), received.etag, received.size);
  if (!staged.ok()) {
    co_await SendError(exchange, request.request_id, resource, UploadErrorOf(staged));
    co_return;
  }
  HttpHeaders headers = {{"ETag", received.etag}, {"x-amz-request-id", request.request_id}};
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> S3Gateway::CompleteMultipartUpload(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  const std::string upload_id = *request.Param("uploadId");
  auto body = co_await exchange.ReadBodyString(4 << 20);
  pugi::xml_document document;
  if (!body.ok() || !document.load_buffer(body->data(), body->size())) {
    co_await SendError(exchange, request.request_id, resource,
                       {400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema."});
    co_return;
  }
  struct Part {
    uint32_t number;
    std::string etag;
  };
  std::vector<Part> parts;
  for (pugi::xml_node part : document.child("CompleteMultipartUpload").children("Part")) {
    const std::string number = part.child_value("PartNumber");
    if (number.empty() || number.size() > 5 || number.find_first_not_of("0123456789") != std::string::npos) {
      co_await SendError(exchange, request.request_id, resource, {400, "MalformedXML", "a Part without a valid PartNumber"});
      co_return;
    }
    parts.push_back({static_cast<uint32_t>(std::stoul(number)), BareEtag(part.child_value("ETag"))});
  }
  if (parts.empty()) {
    co_await SendError(exchange, request.request_id, resource,
                       {400, "MalformedXML", "CompleteMultipartUpload needs at least one Part"});
    co_return;
  }
  for (size_t i = 1; i < parts.size(); i++) {
    if (parts[i].number <= parts[i - 1].number) {
      co_await SendError(exchange, request.request_id, resource,
                         {400, "InvalidPartOrder", "The list of parts was not in ascending order."});
      co_return;
    }
  }
  auto staged = co_await objects_.ListBlocks(request.bucket, request.key, upload_id);
  if (!staged.ok()) {
    co_await SendError(exchange, request.request_id, resource, UploadErrorOf(staged.status()));
    co_return;
  }
  std::map<std::string, const StagedBlockInfo*> by_id;
  for (const StagedBlockInfo& block : staged->uncommitted) by_id[block.id] = &block;
  std::vector<BlockToCommit> blocks;
  for (size_t i = 0; i < parts.size(); i++) {
    auto found = by_id.find(PartId(parts[i].number));
    if (found == by_id.end() || BareEtag(found->second->etag) != parts[i].etag) {
      co_await SendError(exchange, request.request_id, resource,
                         {400, "InvalidPart",
                          fmt::format("part {} was not uploaded, or its ETag is not {}", parts[i].number, parts[i].etag)});
      co_return;
    }
    if (i + 1 < parts.size() && found->second->size < kPartBytesMin) {
      co_await SendError(exchange, request.request_id, resource,
                         {400, "EntityTooSmall",
                          fmt::format("part {} is {} bytes; every part but the last must be at least 5 MiB", parts[i].number,
                                      found->second->size)});
      co_return;
    }
    blocks.push_back({.id = found->first, .source = BlockSource::kUncommitted});
  }
  const PutOptions options;  // the upload's own (content type, metadata) apply
  auto committed = co_await objects_.CommitBlocks(request.bucket, request.key, upload_id, blocks, options);
  if (!committed.ok()) {
    co_await SendError(exchange, request.request_id, resource, UploadErrorOf(committed.status()));
    co_return;
  }
  pugi::xml_document result;
  pugi::xml_node root = Root(result, "CompleteMultipartUploadResult");
  Text(root, "Location", "/" + request.bucket + "/" + UriEncode(request.key, true));
  Text(root, "Bucket", request.bucket);
  Text(root, "Key", request.key);
  Text(root, "ETag", committed->etag);
  co_await SendXml(exchange, request.request_id, result);
}

Task<void> S3Gateway::AbortMultipartUpload(HttpExchange& exchange, Request& request) {
  Status aborted = co_await objects_.AbortUpload(request.bucket, request.key, *request.Param("uploadId"));
  if (!aborted.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, UploadErrorOf(aborted));
    co_return;
  }
  HttpHeaders headers = {{"x-amz-request-id", request.request_id}};
  (void)co_await exchange.Respond(204, std::move(headers), "");
}

Task<void> S3Gateway::ListParts(HttpExchange& exchange, Request& request) {
  const std::string upload_id = *request.Param("uploadId");
  auto staged = co_await objects_.ListBlocks(request.bucket, request.key, upload_id);
  if (!staged.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, UploadErrorOf(staged.status()));
    co_return;
  }
  std::vector<const StagedBlockInfo*> parts;
  for (const StagedBlockInfo& block : staged->uncommitted) parts.push_back(&block);
  std::sort(parts.begin(), parts.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "ListPartsResult");
  Text(root, "Bucket", request.bucket);
  Text(root, "Key", request.key);
  Text(root, "UploadId", upload_id);
  Text(root, "StorageClass", "STANDARD");
  Text(root, "MaxParts", std::to_string(kPartNumberMax));
  Text(root, "IsTruncated", "false");
  for (const StagedBlockInfo* block : parts) {
    pugi::xml_node part = root.append_child("Part");
    Text(part, "PartNumber", std::to_string(std::stoul(block->id)));
    Text(part, "ETag", block->etag);
    Text(part, "Size", std::to_string(block->size));
  }
  co_await SendXml(exchange, request.request_id, document);
}

Task<void> S3Gateway::ListMultipartUploads(HttpExchange& exchange, Request& request) {
  const std::string prefix = request.Param("prefix") != nullptr ? *request.Param("prefix") : "";
  auto uploads = co_await objects_.ListUploads(request.bucket, prefix);
  if (!uploads.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(uploads.status(), true));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "ListMultipartUploadsResult");
  Text(root, "Bucket", request.bucket);
  Text(root, "Prefix", prefix);
  Text(root, "MaxUploads", "1000");
  Text(root, "IsTruncated", "false");
  for (const UploadInfo& upload : *uploads) {
    pugi::xml_node node = root.append_child("Upload");
    Text(node, "Key", upload.name);
    Text(node, "UploadId", upload.upload_id);
    Text(node, "Initiated", IsoTime(upload.created_unix_ns));
    Text(node, "StorageClass", "STANDARD");
  }
  co_await SendXml(exchange, request.request_id, document);
}

}  // namespace cerulean::s3
