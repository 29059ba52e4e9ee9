// The S3 gateway's server-side copies: CopyObject and UploadPartCopy. The source's bytes are
// read (checked against their CRCs) and appended as new pieces, a piece at a time; nothing
// moves through the client (docs/protocols/s3.md).
#include <fmt/format.h>

#include "gateway/byte_range.h"
#include "gateway/http_dates.h"
#include "gateway/object_copy.h"
#include "s3/s3_request.h"

namespace cerulean::s3 {
namespace {

using http::HttpExchange;

constexpr uint64_t kCopyBytesMax = 5ull << 30;  // S3's limit for one copy

struct CopySource {
  std::string bucket;
  std::string key;
};

// x-amz-copy-source: "[/]bucket/key[?versionId=null]", percent-encoded.
Result<CopySource> ParseCopySource(std::string_view header) {
  const size_t question = header.find('?');
  if (question != std::string_view::npos) {
    const std::string_view version = header.substr(question + 1);
    if (version != "versionId=null") {
      return Status::InvalidArgument("versioning is not enabled: the only version of a copy source is 'null'");
    }
    header = header.substr(0, question);
  }
  // The bucket ends at the first '/', which percent-encoding leaves as it is.
  if (header.starts_with('/')) header.remove_prefix(1);
  const size_t slash = header.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == header.size()) {
    return Status::InvalidArgument("x-amz-copy-source must be bucket/key");
  }
  CopySource source;
  ASSIGN_OR_RETURN(source.bucket, UriDecode(header.substr(0, slash)));
  ASSIGN_OR_RETURN(source.key, UriDecode(header.substr(slash + 1)));
  return source;
}

}  // namespace

// Reads the copy source's layout and checks the x-amz-copy-source-if-* conditions; nothing
// once it has answered with an error.
Task<std::optional<client::Layout>> S3Gateway::CopySourceLayout(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  auto source = ParseCopySource(*request.Header("x-amz-copy-source"));
  if (!source.ok()) {
    co_await SendError(exchange, request.request_id, resource, S3Error(400, "InvalidArgument", std::string(source.status().message())));
    co_return std::nullopt;
  }
  const ReadConditions none;  // named: g++ 12 frees temporaries in co_await twice
  auto layout = co_await objects_.GetLayout(source->bucket, source->key, none);
  if (!layout.ok()) {
    co_await SendError(exchange, request.request_id, resource, ErrorOf(layout.status(), false));
    co_return std::nullopt;
  }
  const meta::ObjectRecord& record = layout->record;
  const int64_t modified_s = record.modified_unix_ns / 1'000'000'000;
  // S3's precedence: an ETag condition, when given, decides over its date counterpart.
  bool failed = false;
  const std::string* match = request.Header("x-amz-copy-source-if-match");
  const std::string* none_match = request.Header("x-amz-copy-source-if-none-match");
  const auto names = [&](const std::string& list) {
    if (BareEtag(list) == "*") return true;
    for (size_t start = 0; start <= list.size();) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      std::string_view one = std::string_view(list).substr(start, end - start);
      while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
      while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
      if (BareEtag(one) == BareEtag(record.etag)) return true;
      start = end + 1;
    }
    return false;
  };
  if (match != nullptr) failed |= !names(*match);
  if (none_match != nullptr) failed |= names(*none_match);
  const auto since = [&](const char* name) -> std::optional<int64_t> {
    const std::string* value = request.Header(name);
    if (value == nullptr) return std::nullopt;
    auto parsed = gateway::ParseHttpTime(*value);
    return parsed.ok() ? std::optional<int64_t>(*parsed) : std::nullopt;
  };
  if (auto modified_since = since("x-amz-copy-source-if-modified-since"); modified_since && none_match == nullptr) {
    failed |= modified_s <= *modified_since;
  }
  if (auto unmodified_since = since("x-amz-copy-source-if-unmodified-since"); unmodified_since && match == nullptr) {
    failed |= modified_s > *unmodified_since;
  }
  if (failed) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
    co_return std::nullopt;
  }
  co_return std::move(*layout);
}

Task<void> S3Gateway::CopyObject(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  std::string directive = "COPY";
  if (const std::string* value = request.Header("x-amz-metadata-directive")) directive = *value;
  if (directive != "COPY" && directive != "REPLACE") {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "InvalidArgument", "x-amz-metadata-directive must be COPY or REPLACE"));
    co_return;
  }
  auto source = ParseCopySource(*request.Header("x-amz-copy-source"));
  if (source.ok() && source->bucket == request.bucket && source->key == request.key && directive == "COPY") {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "InvalidRequest",
                               "This copy request is illegal because it is trying to copy an object to itself without "
                               "changing the object's metadata, storage class, website redirect location or encryption "
                               "attributes."));
    co_return;
  }
  std::optional<client::Layout> layout = co_await CopySourceLayout(exchange, request);
  if (!layout) co_return;
  const meta::ObjectRecord& record = layout->record;
  if (record.size > kCopyBytesMax) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "InvalidRequest",
                               fmt::format("The specified copy source is larger than the maximum allowable size for a "
                                           "copy source: {}",
                                           kCopyBytesMax)));
    co_return;
  }
  PutOptions options = OptionsOf(request);
  if (directive == "COPY") {
    const ObjectInfo info = client::ToObjectInfo(request.bucket, request.key, record);
    options.content_type = info.content_type;
    options.headers = info.headers;
    options.metadata = info.metadata;
  }
  gateway::ReceivedBody body = co_await gateway::CopyIntoPieces(objects_, *layout, 0, record.size, request.bucket,
                                                                request.key, options_.piece_bytes);
  if (!body.status.ok()) {
    co_await SendError(exchange, request.request_id, resource, ErrorOf(body.status, false));
    co_return;
  }
  const std::string etag = body.etag();  // named: g++ 12 frees temporaries in co_await twice
  auto committed = co_await objects_.Commit(request.bucket, request.key, std::move(body.upload), etag, body.size, options);
  if (!committed.ok()) {
    co_await SendError(exchange, request.request_id, resource, ErrorOf(committed.status(), false));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "CopyObjectResult");
  Text(root, "LastModified", gateway::IsoTime(committed->modified_unix_ns));
  Text(root, "ETag", committed->etag);
  co_await SendXml(exchange, request.request_id, document);
}

Task<void> S3Gateway::UploadPartCopy(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  const uint32_t number = ParsePartNumber(*request.Param("partNumber"));
  if (number == 0) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"));
    co_return;
  }
  std::optional<client::Layout> layout = co_await CopySourceLayout(exchange, request);
  if (!layout) co_return;
  const uint64_t size = layout->record.size;
  uint64_t first = 0, length = size;
  if (const std::string* range = request.Header("x-amz-copy-source-range")) {
    // Strictly "bytes=first-last" inside the object: no suffix ranges, no clipping.
    auto parsed = gateway::ParseByteRange(*range, size);
    const size_t dash = range->find('-');
    const std::string last_text = dash == std::string::npos ? "" : range->substr(dash + 1);
    const bool inside = !last_text.empty() && last_text.size() < 20 &&
                        last_text.find_first_not_of("0123456789") == std::string::npos && std::stoull(last_text) < size;
    if (!parsed.ok() || !*parsed || !inside || range->find("=-") != std::string::npos) {
      co_await SendError(exchange, request.request_id, resource,
                         S3Error(400, "InvalidArgument",
                                 "The x-amz-copy-source-range value must be of the form bytes=first-last where first "
                                 "and last are the zero-based offsets of the first and last bytes to copy"));
      co_return;
    }
    first = (*parsed)->first;
    length = (*parsed)->second - first + 1;
  }
  if (length > kCopyBytesMax) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "InvalidRequest", "A part copied from an object is at most 5 GiB"));
    co_return;
  }
  gateway::ReceivedBody body =
      co_await gateway::CopyIntoPieces(objects_, *layout, first, length, request.bucket, request.key, options_.piece_bytes);
  if (!body.status.ok()) {
    co_await SendError(exchange, request.request_id, resource, ErrorOf(body.status, false));
    co_return;
  }
  const std::string etag = body.etag();
  const std::string part_id = PartId(number);
  Status staged = co_await objects_.StageBlock(request.bucket, request.key, *request.Param("uploadId"), part_id,
                                               std::move(body.upload), etag, body.size);
  if (!staged.ok()) {
    co_await SendError(exchange, request.request_id, resource, UploadErrorOf(staged));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "CopyPartResult");
  Text(root, "LastModified", gateway::IsoTime(layout->record.modified_unix_ns));
  Text(root, "ETag", etag);
  co_await SendXml(exchange, request.request_id, document);
}

}  // namespace cerulean::s3
