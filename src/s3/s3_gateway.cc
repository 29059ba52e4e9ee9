#include "s3/s3_gateway.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "base/buffer_pool.h"
#include "base/logging.h"
#include "base/md5.h"
#include "client/etag.h"
#include "gateway/body_upload.h"
#include "gateway/byte_range.h"
#include "gateway/http_dates.h"
#include "gateway/object_stream.h"
#include "gateway/uri.h"
#include "s3/aws_chunked.h"
#include "s3/s3_request.h"
#include "s3/sigv4.h"

namespace cerulean::s3 {

using http::HttpExchange;
using http::HttpHeaders;
using gateway::HttpTime;
using gateway::IsoTime;
using gateway::Lower;

namespace {

// A request's payload: the body as sent, or decoded (and its chunks' signatures checked) when
// it is aws-chunked.
class PayloadReader : public gateway::BodySource {
 public:
  PayloadReader(HttpExchange& exchange, std::unique_ptr<AwsChunkedDecoder> decoder)
      : exchange_(exchange), decoder_(std::move(decoder)) {}

  Task<Result<size_t>> Read(std::span<std::byte> into) override {
    if (decoder_ == nullptr) co_return co_await exchange_.ReadBody(into);
    while (offset_ == decoded_.size()) {
      decoded_.clear();
      offset_ = 0;
      raw_.resize(64 << 10);
      CO_ASSIGN_OR_RETURN(size_t n, co_await exchange_.ReadBody(raw_));
      if (n == 0) {
        CO_RETURN_IF_ERROR(decoder_->Finish());
        co_return size_t{0};
      }
      CO_RETURN_IF_ERROR(decoder_->Feed(std::string_view(reinterpret_cast<const char*>(raw_.data()), n), decoded_));
    }
    const size_t n = std::min(into.size(), decoded_.size() - offset_);
    std::memcpy(into.data(), decoded_.data() + offset_, n);
    offset_ += n;
    co_return n;
  }

 private:
  HttpExchange& exchange_;
  std::unique_ptr<AwsChunkedDecoder> decoder_;
  std::vector<std::byte> raw_;
  std::string decoded_;
  size_t offset_ = 0;
};

}  // namespace

S3Gateway::S3Gateway(client::ClientCore& objects, gateway::Credentials credentials, S3GatewayOptions options)
    : objects_(objects), credentials_(std::move(credentials)), options_(std::move(options)) {}

Task<void> S3Gateway::Handle(HttpExchange& exchange) {
  const http::HttpRequest& http_request = exchange.request();
  Request request;
  static uint64_t next_id = 1;
  request.request_id = fmt::format("{:016X}", next_id++ * 0x9E3779B97F4A7C15ull);
  auto path = UriDecode(http_request.path);
  auto query = ParseQuery(http_request.query);
  if (!path.ok() || !query.ok() || path->empty() || path->front() != '/') {
    co_await SendError(exchange, request.request_id, http_request.path,
                       {400, "InvalidURI", "the request's path or query is not valid percent-encoding"});
    co_return;
  }
  request.query = std::move(*query);
  request.signed_request = {.method = http_request.method, .path = *path, .query = request.query, .headers = http_request.headers};
  // Virtual-host style names the bucket in Host; path style in the first path segment.
  std::string_view rest = std::string_view(*path).substr(1);
  std::string host;
  if (const std::string* value = http_request.Header("host")) host = Lower(value->substr(0, value->rfind(':') == std::string::npos || value->back() == ']' ? value->size() : value->rfind(':')));
  const std::string suffix = "." + options_.virtual_host_domain;
  if (!options_.virtual_host_domain.empty() && host.size() > suffix.size() && host.ends_with(suffix)) {
    request.bucket = host.substr(0, host.size() - suffix.size());
    request.key = std::string(rest);
  } else {
    const size_t slash = rest.find('/');
    request.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) request.key = std::string(rest.substr(slash + 1));
  }
  if (!co_await Authenticate(exchange, request)) co_return;
  co_await Route(exchange, request);
}

Task<bool> S3Gateway::Authenticate(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  Result<SigV4> auth = ParseSigV4(request.signed_request);
  if (!auth.ok() && auth.status().code() == StatusCode::kNotFound) {
    // Anonymous: reads of a public-read container only (its listings too, unless it was made
    // public for object reads alone).
    const std::string& method = request.signed_request.method;
    if ((method == "GET" || method == "HEAD") && !request.bucket.empty()) {
      auto container = co_await objects_.GetContainer(request.bucket);
      if (container.ok() && container->public_read && (!request.key.empty() || container->public_list)) co_return true;
    }
    co_await SendError(exchange, request.request_id, resource, {403, "AccessDenied", "Access Denied: the request is not signed"});
    co_return false;
  }
  if (!auth.ok()) {
    co_await SendError(exchange, request.request_id, resource, {400, "AuthorizationHeaderMalformed", std::string(auth.status().message())});
    co_return false;
  }
  if (auth->access_key != credentials_.s3_access_key) {
    co_await SendError(exchange, request.request_id, resource,
                       {403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."});
    co_return false;
  }
  Result<int64_t> signed_at = ParseAmzDate(auth->amz_date);
  if (!signed_at.ok()) {
    co_await SendError(exchange, request.request_id, resource, {403, "AccessDenied", std::string(signed_at.status().message())});
    co_return false;
  }
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (auth->presigned) {
    if (now > *signed_at + auth->expires_s) {
      co_await SendError(exchange, request.request_id, resource, {403, "AccessDenied", "Request has expired"});
      co_return false;
    }
    if (*signed_at > now + options_.clock_skew_max_s) {
      co_await SendError(exchange, request.request_id, resource, {403, "AccessDenied", "Request is not valid yet"});
      co_return false;
    }
  } else if (std::abs(now - *signed_at) > options_.clock_skew_max_s) {
    co_await SendError(exchange, request.request_id, resource,
                       {403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."});
    co_return false;
  }
  const std::string canonical = CanonicalRequest(request.signed_request, *auth);
  const std::string expected = Sign(credentials_.s3_secret_key, *auth, StringToSign(*auth, canonical));
  if (CRYPTO_memcmp(expected.data(), auth->signature.data(), std::min(expected.size(), auth->signature.size())) != 0 ||
      expected.size() != auth->signature.size()) {
    co_await SendError(exchange, request.request_id, resource,
                       {403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided."});
    co_return false;
  }
  if (auth->payload_hash.starts_with("STREAMING-") && auth->payload_hash != kStreamingPayload) {
    co_await SendError(exchange, request.request_id, resource,
                       {501, "NotImplemented", fmt::format("payload signing {} is not supported yet", auth->payload_hash)});
    co_return false;
  }
  request.auth = std::move(*auth);
  co_return true;
}

Task<void> S3Gateway::Route(HttpExchange& exchange, Request& request) {
  const std::string& method = request.signed_request.method;
  if (request.bucket.empty()) {
    if (method == "GET") co_return co_await ListBuckets(exchange, request);
  } else if (request.key.empty()) {
    if (method == "PUT" && request.query.empty()) co_return co_await CreateBucket(exchange, request);
    if (method == "DELETE" && request.query.empty()) co_return co_await DeleteBucket(exchange, request);
    if (method == "HEAD") co_return co_await HeadBucket(exchange, request);
    if (method == "GET" && request.Param("location") != nullptr) {
      auto container = co_await objects_.GetContainer(request.bucket);
      if (!container.ok()) {
        co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(container.status(), true));
        co_return;
      }
      pugi::xml_document document;
      pugi::xml_node declaration = document.append_child(pugi::node_declaration);
      declaration.append_attribute("version") = "1.0";
      declaration.append_attribute("encoding") = "UTF-8";
      document.append_child("LocationConstraint").append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
      co_return co_await SendXml(exchange, request.request_id, document);
    }
    if (method == "GET" && request.Param("uploads") != nullptr) co_return co_await ListMultipartUploads(exchange, request);
    if (method == "GET" && request.Param("versions") != nullptr) co_return co_await ListObjectVersions(exchange, request);
    if (method == "POST" && request.Param("delete") != nullptr) co_return co_await DeleteObjects(exchange, request);
    if (method == "GET") {
      for (const char* unsupported : {"acl", "policy", "tagging", "lifecycle", "cors"}) {
        if (request.Param(unsupported) != nullptr) {
          co_await SendError(exchange, request.request_id, request.signed_request.path,
                             {501, "NotImplemented", fmt::format("the bucket subresource '{}' is not supported yet", unsupported)});
          co_return;
        }
      }
      co_return co_await ListObjects(exchange, request);
    }
  } else if (request.Param("uploadId") != nullptr) {
    if (method == "PUT" && request.Param("partNumber") != nullptr) {
      if (request.Header("x-amz-copy-source") != nullptr) co_return co_await UploadPartCopy(exchange, request);
      co_return co_await UploadPart(exchange, request);
    }
    if (method == "POST") co_return co_await CompleteMultipartUpload(exchange, request);
    if (method == "DELETE") co_return co_await AbortMultipartUpload(exchange, request);
    if (method == "GET") co_return co_await ListParts(exchange, request);
  } else if (method == "GET" && request.Param("tagging") != nullptr) {
    // Objects carry no tags (yet): an object that exists has an empty tag set, which is what
    // awscli's copies ask for before they copy.
    const ReadConditions none;  // named: g++ 12 frees temporaries in co_await twice
    auto head = co_await objects_.Head(request.bucket, request.key, none);
    if (!head.ok()) {
      co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(head.status(), false));
      co_return;
    }
    pugi::xml_document document;
    Root(document, "Tagging").append_child("TagSet");
    co_return co_await SendXml(exchange, request.request_id, document);
  } else if (method == "POST" && request.Param("uploads") != nullptr) {
    co_return co_await CreateMultipartUpload(exchange, request);
  } else if (request.Param("acl") == nullptr && request.Param("tagging") == nullptr && request.Param("retention") == nullptr &&
             request.Param("legal-hold") == nullptr && request.Param("attributes") == nullptr) {
    if (method == "PUT" && request.Header("x-amz-copy-source") != nullptr) co_return co_await CopyObject(exchange, request);
    if (method == "PUT") co_return co_await PutObject(exchange, request);
    if (method == "GET" || method == "HEAD") co_return co_await GetObject(exchange, request);
    if (method == "DELETE") co_return co_await DeleteObject(exchange, request);
  }
  co_await SendError(exchange, request.request_id, request.signed_request.path,
                     {501, "NotImplemented", fmt::format("{} on this resource is not supported yet", method)});
}

Task<void> S3Gateway::ListBuckets(HttpExchange& exchange, Request& request) {
  auto containers = co_await objects_.ListContainers("");
  if (!containers.ok()) {
    co_await SendError(exchange, request.request_id, "/", ErrorOf(containers.status(), true));
    co_return;
  }
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "ListAllMyBucketsResult");
  pugi::xml_node owner = root.append_child("Owner");
  Text(owner, "ID", credentials_.s3_access_key);
  Text(owner, "DisplayName", "cerulean");
  pugi::xml_node buckets = root.append_child("Buckets");
  for (const ContainerInfo& container : *containers) {
    pugi::xml_node bucket = buckets.append_child("Bucket");
    Text(bucket, "Name", container.name);
    Text(bucket, "CreationDate", IsoTime(container.created_unix_ns));
  }
  co_await SendXml(exchange, request.request_id, document);
}

Task<void> S3Gateway::CreateBucket(HttpExchange& exchange, Request& request) {
  // The body may name a region (CreateBucketConfiguration); one cluster is one region.
  auto body = co_await exchange.ReadBodyString(64 << 10);
  if (!body.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, {400, "MalformedXML", std::string(body.status().message())});
    co_return;
  }
  ContainerOptions options;
  if (const std::string* acl = request.Header("x-amz-acl")) options.public_read = *acl == "public-read";
  Status created = co_await objects_.CreateContainer(request.bucket, options);
  if (!created.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(created, true));
    co_return;
  }
  HttpHeaders headers = {{"Location", "/" + request.bucket}, {"x-amz-request-id", request.request_id}};
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> S3Gateway::DeleteBucket(HttpExchange& exchange, Request& request) {
  Status deleted = co_await objects_.DeleteContainer(request.bucket);
  if (!deleted.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(deleted, true));
    co_return;
  }
  HttpHeaders headers = {{"x-amz-request-id", request.request_id}};
  (void)co_await exchange.Respond(204, std::move(headers), "");
}

Task<void> S3Gateway::HeadBucket(HttpExchange& exchange, Request& request) {
  auto container = co_await objects_.GetContainer(request.bucket);
  if (!container.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(container.status(), true));
    co_return;
  }
  HttpHeaders headers = {{"x-amz-request-id", request.request_id}, {"x-amz-bucket-region", "us-east-1"}};
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> S3Gateway::ListObjects(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  const bool v2 = request.Param("list-type") != nullptr && *request.Param("list-type") == "2";
  const bool url_encoding = request.Param("encoding-type") != nullptr && *request.Param("encoding-type") == "url";
  if (request.Param("encoding-type") != nullptr && !url_encoding) {
    co_await SendError(exchange, request.request_id, resource, {400, "InvalidArgument", "encoding-type must be url"});
    co_return;
  }
  ListOptions options;
  if (const std::string* prefix = request.Param("prefix")) options.prefix = *prefix;
  if (const std::string* delimiter = request.Param("delimiter")) options.delimiter = *delimiter;
  size_t max_keys = options_.list_keys_max;
  if (const std::string* text = request.Param("max-keys")) {
    if (text->empty() || text->size() > 9 || text->find_first_not_of("0123456789") != std::string::npos) {
      co_await SendError(exchange, request.request_id, resource, {400, "InvalidArgument", "max-keys must be a non-negative integer"});
      co_return;
    }
    max_keys = std::min<size_t>(std::stoul(*text), options_.list_keys_max);
  }
  std::string continuation;
  if (v2) {
    if (const std::string* token = request.Param("continuation-token")) {
      auto decoded = UriDecode(*token);  // our tokens are the percent-encoded key to start after
      if (!decoded.ok()) {
        co_await SendError(exchange, request.request_id, resource, {400, "InvalidArgument", "the continuation token is not valid"});
        co_return;
      }
      continuation = *token;
      options.start_after = *decoded;
    } else if (const std::string* after = request.Param("start-after")) {
      options.start_after = *after;
    }
  } else if (const std::string* marker = request.Param("marker")) {
    options.start_after = *marker;
  }
  ObjectPage page;
  if (max_keys > 0) {
    options.page_size = static_cast<uint32_t>(max_keys);
    auto listed = co_await objects_.ListPage(request.bucket, options);
    if (!listed.ok()) {
      co_await SendError(exchange, request.request_id, resource, ErrorOf(listed.status(), true));
      co_return;
    }
    page = std::move(*listed);
  } else {
    auto container = co_await objects_.GetContainer(request.bucket);
    if (!container.ok()) {
      co_await SendError(exchange, request.request_id, resource, ErrorOf(container.status(), true));
      co_return;
    }
  }
  const auto encode = [&](std::string_view text) { return url_encoding ? UriEncode(text, true) : std::string(text); };
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "ListBucketResult");
  Text(root, "Name", request.bucket);
  Text(root, "Prefix", encode(options.prefix));
  if (v2) {
    if (!continuation.empty()) Text(root, "ContinuationToken", continuation);
    if (const std::string* after = request.Param("start-after")) Text(root, "StartAfter", encode(*after));
    Text(root, "KeyCount", std::to_string(page.objects.size() + page.common_prefixes.size()));
  } else {
    Text(root, "Marker", encode(request.Param("marker") != nullptr ? *request.Param("marker") : ""));
  }
  Text(root, "MaxKeys", std::to_string(max_keys));
  if (!options.delimiter.empty()) Text(root, "Delimiter", encode(options.delimiter));
  if (url_encoding) Text(root, "EncodingType", "url");
  Text(root, "IsTruncated", page.truncated ? "true" : "false");
  if (page.truncated) {
    if (v2) {
      Text(root, "NextContinuationToken", UriEncode(page.next_start_after, false));
    } else if (!options.delimiter.empty()) {
      Text(root, "NextMarker", encode(page.next_start_after));
    }
  }
  for (const ObjectInfo& object : page.objects) {
    pugi::xml_node contents = root.append_child("Contents");
    Text(contents, "Key", encode(object.name));
    Text(contents, "LastModified", IsoTime(object.modified_unix_ns));
    Text(contents, "ETag", object.etag);
    Text(contents, "Size", std::to_string(object.size));
    Text(contents, "StorageClass", "STANDARD");
  }
  for (const std::string& prefix : page.common_prefixes) {
    Text(root.append_child("CommonPrefixes"), "Prefix", encode(prefix));
  }
  co_await SendXml(exchange, request.request_id, document);
}

Task<bool> S3Gateway::ReceiveBody(HttpExchange& exchange, Request& request, Received& received) {
  const std::string resource = request.signed_request.path;
  const std::string* content_md5 = request.Header("content-md5");
  const bool streaming = request.auth && request.auth->payload_hash == kStreamingPayload;
  const bool check_sha256 = request.auth && request.auth->payload_hash != kUnsignedPayload && !streaming;
  std::unique_ptr<AwsChunkedDecoder> decoder;
  if (streaming) {
    const SigV4& auth = *request.auth;
    decoder = std::make_unique<AwsChunkedDecoder>(
        SigningKey(credentials_.s3_secret_key, auth), auth.amz_date,
        fmt::format("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service), auth.signature);
  }
  PayloadReader payload(exchange, std::move(decoder));
  // MD5 (the ETag) and, if the client signed the payload, SHA-256 are computed on the way, and
  // nothing is committed unless they match.
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  gateway::BodyUploadOptions upload_options;
  upload_options.piece_bytes = options_.piece_bytes;
  upload_options.observe = [sha](std::span<const std::byte> bytes) { EVP_DigestUpdate(sha, bytes.data(), bytes.size()); };
  gateway::ReceivedBody body = co_await gateway::ReceiveIntoPieces(objects_, request.bucket, request.key, payload, upload_options);
  received.upload = std::move(body.upload);
  received.size = body.size;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  EVP_DigestFinal_ex(sha, digest, &digest_length);
  EVP_MD_CTX_free(sha);
  if (!body.status.ok()) {
    exchange.CloseAfter();  // the rest of the body is not read
    const Status& failed = body.status;
    S3Error error = !body.client_failed ? ErrorOf(failed, false)
                    : failed.code() == StatusCode::kPermissionDenied
                        ? S3Error(403, "SignatureDoesNotMatch", std::string(failed.message()))
                        : S3Error(400, "IncompleteBody", std::string(failed.message()));
    co_await SendError(exchange, request.request_id, resource, std::move(error));
    co_return false;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string sha_hex;
  for (unsigned int i = 0; i < digest_length; i++) {
    sha_hex += kHex[digest[i] >> 4];
    sha_hex += kHex[digest[i] & 15];
  }
  if (const std::string* decoded = request.Header("x-amz-decoded-content-length");
      streaming && (decoded == nullptr || *decoded != std::to_string(received.size))) {
    co_await SendError(exchange, request.request_id, resource,
                       {400, "IncompleteBody", "the aws-chunked payload's length is not x-amz-decoded-content-length"});
    co_return false;
  }
  if (check_sha256 && Lower(request.auth->payload_hash) != sha_hex) {
    co_await SendError(exchange, request.request_id, resource,
                       {400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."});
    co_return false;
  }
  const std::string& md5_digest = body.md5;
  if (content_md5 != nullptr) {
    unsigned char encoded[32];
    const int length = EVP_EncodeBlock(encoded, reinterpret_cast<const unsigned char*>(md5_digest.data()), 16);
    if (std::string_view(reinterpret_cast<const char*>(encoded), static_cast<size_t>(length)) != *content_md5) {
      co_await SendError(exchange, request.request_id, resource,
                         {400, "BadDigest", "The Content-MD5 you specified did not match what we received."});
      co_return false;
    }
  }
  received.etag = body.etag();
  co_return true;
}

PutOptions S3Gateway::OptionsOf(const Request& request) const {
  PutOptions options;
  if (const std::string* type = request.Header("content-type")) options.content_type = *type;
  if (const std::string* value = request.Header("content-encoding")) {
    // "aws-chunked" names the transfer's framing, not the object's encoding: S3 drops it.
    std::string_view encoding = *value;
    if (encoding.starts_with("aws-chunked")) encoding.remove_prefix(std::min(encoding.size(), encoding.find_first_not_of(", ", 11)));
    options.headers.content_encoding = std::string(encoding);
  }
  if (const std::string* value = request.Header("content-language")) options.headers.content_language = *value;
  if (const std::string* value = request.Header("content-disposition")) options.headers.content_disposition = *value;
  if (const std::string* value = request.Header("cache-control")) options.headers.cache_control = *value;
  for (const auto& [name, value] : request.signed_request.headers) {
    if (name.starts_with("x-amz-meta-")) options.metadata.emplace_back(name.substr(11), value);
  }
  if (const std::string* match = request.Header("if-match")) options.if_match = *match;
  if (const std::string* none = request.Header("if-none-match")) options.if_none_match = *none;
  return options;
}

Task<void> S3Gateway::PutObject(HttpExchange& exchange, Request& request) {
  const PutOptions options = OptionsOf(request);
  Received received;
  if (!co_await ReceiveBody(exchange, request, received)) co_return;
  auto committed = co_await objects_.Commit(request.bucket, request.key, std::move(received.upload), received.etag,
                                            received.size, options);
  if (!committed.ok()) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(committed.status(), false));
    co_return;
  }
  HttpHeaders headers = {{"ETag", committed->etag}, {"x-amz-request-id", request.request_id}};
  (void)co_await exchange.Respond(200, std::move(headers), "");
}

Task<void> S3Gateway::GetObject(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  ReadConditions conditions;
  if (const std::string* match = request.Header("if-match")) conditions.if_match = *match;
  if (const std::string* none = request.Header("if-none-match")) conditions.if_none_match = *none;
  auto layout = co_await objects_.GetLayout(request.bucket, request.key, conditions);
  if (!layout.ok()) {
    const Status& status = layout.status();
    if (status.code() == StatusCode::kFailedPrecondition && status.message().starts_with("If-None-Match")) {
      HttpHeaders headers = {{"x-amz-request-id", request.request_id}};
      (void)co_await exchange.Respond(304, std::move(headers), "");
      co_return;
    }
    co_await SendError(exchange, request.request_id, resource, ErrorOf(status, false));
    co_return;
  }
  const ObjectInfo info = client::ToObjectInfo(request.bucket, request.key, layout->record);
  HttpHeaders headers = {{"ETag", info.etag},
                         {"Last-Modified", HttpTime(info.modified_unix_ns)},
                         {"Content-Type", info.content_type},
                         {"Accept-Ranges", "bytes"},
                         {"x-amz-request-id", request.request_id}};
  for (const auto& [name, value] : info.metadata) headers.emplace_back("x-amz-meta-" + name, value);
  const std::pair<const char*, const std::string*> stored[] = {{"Content-Encoding", &info.headers.content_encoding},
                                                               {"Content-Language", &info.headers.content_language},
                                                               {"Content-Disposition", &info.headers.content_disposition},
                                                               {"Cache-Control", &info.headers.cache_control}};
  for (const auto& [name, value] : stored) {
    if (!value->empty()) headers.emplace_back(name, *value);
  }
  uint64_t first = 0, last = info.size == 0 ? 0 : info.size - 1;
  int status = 200;
  if (const std::string* range = request.Header("range")) {
    auto parsed = gateway::ParseByteRange(*range, info.size);
    if (!parsed.ok()) {
      co_await SendError(exchange, request.request_id, resource, {416, "InvalidRange", std::string(parsed.status().message())});
      co_return;
    }
    if (*parsed) {
      first = (*parsed)->first;
      last = (*parsed)->second;
      status = 206;
      headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", first, last, info.size));
    }
  }
  const uint64_t length = info.size == 0 ? 0 : last - first + 1;
  if (!(co_await exchange.BeginResponse(status, std::move(headers), length)).ok()) co_return;
  if (request.signed_request.method == "HEAD") co_return;
  const std::string what = "s3: GET " + resource;
  co_await gateway::StreamObjectBody(objects_, exchange, *layout, first, length, options_.piece_bytes, what);
}

Task<void> S3Gateway::DeleteObject(HttpExchange& exchange, Request& request) {
  const ReadConditions none;  // named: g++ 12 frees temporaries in co_await twice
  Status deleted = co_await objects_.Delete(request.bucket, request.key, none);
  // Deleting a key that is not there succeeds, as in S3; a missing bucket does not.
  if (!deleted.ok() && !(deleted.code() == StatusCode::kNotFound && !deleted.message().starts_with("container"))) {
    co_await SendError(exchange, request.request_id, request.signed_request.path, ErrorOf(deleted, false));
    co_return;
  }
  HttpHeaders headers = {{"x-amz-request-id", request.request_id}};
  (void)co_await exchange.Respond(204, std::move(headers), "");
}

Task<void> S3Gateway::ListObjectVersions(HttpExchange& exchange, Request& request) {
  // Buckets are not versioned: every object is its one version, "null", and the latest.
  const std::string resource = request.signed_request.path;
  const bool url_encoding = request.Param("encoding-type") != nullptr && *request.Param("encoding-type") == "url";
  ListOptions options;
  if (const std::string* prefix = request.Param("prefix")) options.prefix = *prefix;
  if (const std::string* delimiter = request.Param("delimiter")) options.delimiter = *delimiter;
  if (const std::string* marker = request.Param("key-marker")) options.start_after = *marker;
  size_t max_keys = options_.list_keys_max;
  if (const std::string* text = request.Param("max-keys")) {
    if (text->empty() || text->size() > 9 || text->find_first_not_of("0123456789") != std::string::npos) {
      co_await SendError(exchange, request.request_id, resource, S3Error(400, "InvalidArgument", "max-keys must be a non-negative integer"));
      co_return;
    }
    max_keys = std::min<size_t>(std::stoul(*text), options_.list_keys_max);
  }
  options.page_size = static_cast<uint32_t>(std::max<size_t>(max_keys, 1));
  auto page = co_await objects_.ListPage(request.bucket, options);
  if (!page.ok()) {
    co_await SendError(exchange, request.request_id, resource, ErrorOf(page.status(), true));
    co_return;
  }
  if (max_keys == 0) *page = ObjectPage();
  const auto encode = [&](std::string_view text) { return url_encoding ? UriEncode(text, true) : std::string(text); };
  pugi::xml_document document;
  pugi::xml_node root = Root(document, "ListVersionsResult");
  Text(root, "Name", request.bucket);
  Text(root, "Prefix", encode(options.prefix));
  Text(root, "KeyMarker", encode(options.start_after));
  Text(root, "VersionIdMarker", request.Param("version-id-marker") != nullptr ? *request.Param("version-id-marker") : "");
  Text(root, "MaxKeys", std::to_string(max_keys));
  if (!options.delimiter.empty()) Text(root, "Delimiter", encode(options.delimiter));
  if (url_encoding) Text(root, "EncodingType", "url");
  Text(root, "IsTruncated", page->truncated ? "true" : "false");
  if (page->truncated) {
    Text(root, "NextKeyMarker", encode(page->next_start_after));
    Text(root, "NextVersionIdMarker", "null");
  }
  for (const ObjectInfo& object : page->objects) {
    pugi::xml_node version = root.append_child("Version");
    Text(version, "Key", encode(object.name));
    Text(version, "VersionId", "null");
    Text(version, "IsLatest", "true");
    Text(version, "LastModified", IsoTime(object.modified_unix_ns));
    Text(version, "ETag", object.etag);
    Text(version, "Size", std::to_string(object.size));
    Text(version, "StorageClass", "STANDARD");
    pugi::xml_node owner = version.append_child("Owner");
    Text(owner, "ID", credentials_.s3_access_key);
    Text(owner, "DisplayName", "cerulean");
  }
  for (const std::string& prefix : page->common_prefixes) Text(root.append_child("CommonPrefixes"), "Prefix", encode(prefix));
  co_await SendXml(exchange, request.request_id, document);
}

Task<void> S3Gateway::DeleteObjects(HttpExchange& exchange, Request& request) {
  const std::string resource = request.signed_request.path;
  constexpr size_t kKeysMax = 1000;
  auto body = co_await exchange.ReadBodyString(4 << 20);
  if (!body.ok()) {
    co_await SendError(exchange, request.request_id, resource, S3Error(400, "MalformedXML", std::string(body.status().message())));
    co_return;
  }
  // The body is the request: its integrity is checked as PutObject's is.
  if (request.auth && request.auth->payload_hash.starts_with("STREAMING-")) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(501, "NotImplemented", "DeleteObjects takes a plainly signed or unsigned body, not aws-chunked"));
    co_return;
  }
  if (request.auth && request.auth->payload_hash != kUnsignedPayload && Lower(request.auth->payload_hash) != Sha256Hex(*body)) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."));
    co_return;
  }
  if (const std::string* content_md5 = request.Header("content-md5")) {
    Md5 md5;
    md5.Update(std::as_bytes(std::span(body->data(), body->size())));
    if (gateway::Base64Encode(md5.Finish()) != *content_md5) {
      co_await SendError(exchange, request.request_id, resource,
                         S3Error(400, "BadDigest", "The Content-MD5 you specified did not match what we received."));
      co_return;
    }
  }
  pugi::xml_document document;
  if (!document.load_buffer(body->data(), body->size()) || !document.child("Delete")) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema."));
    co_return;
  }
  const pugi::xml_node request_root = document.child("Delete");
  const bool quiet = std::string_view(request_root.child_value("Quiet")) == "true";
  std::vector<std::string> keys;
  for (pugi::xml_node object : request_root.children("Object")) keys.emplace_back(object.child_value("Key"));
  if (keys.empty() || keys.size() > kKeysMax) {
    co_await SendError(exchange, request.request_id, resource,
                       S3Error(400, "MalformedXML", fmt::format("a multi-delete names 1 to {} keys, not {}", kKeysMax, keys.size())));
    co_return;
  }
  auto container = co_await objects_.GetContainer(request.bucket);
  if (!container.ok()) {
    co_await SendError(exchange, request.request_id, resource, ErrorOf(container.status(), true));
    co_return;
  }
  pugi::xml_document result;
  pugi::xml_node root = Root(result, "DeleteResult");
  const ReadConditions none;  // named: g++ 12 frees temporaries in co_await twice
  for (const std::string& key : keys) {
    Status deleted = co_await objects_.Delete(request.bucket, key, none);
    if (deleted.ok() || deleted.code() == StatusCode::kNotFound) {  // a key that is not there is deleted, as in S3
      if (!quiet) Text(root.append_child("Deleted"), "Key", key);
      continue;
    }
    const S3Error error = ErrorOf(deleted, false);
    pugi::xml_node node = root.append_child("Error");
    Text(node, "Key", key);
    Text(node, "Code", error.code);
    Text(node, "Message", error.message);
  }
  co_await SendXml(exchange, request.request_id, result);
}

}  // namespace cerulean::s3
