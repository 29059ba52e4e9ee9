// S3Gateway: the S3 REST API over Cerulean's containers and objects, so that awscli, boto3,
// s3cmd and rclone work unchanged. Buckets are containers and keys are object names: what S3
// puts, the native client and the Azure gateway read. Requests are path-style
// (/bucket/key) or virtual-host style (bucket.<domain>/key); each is authenticated with SigV4
// (header or presigned URL) against the server's key pair, except reads of containers marked
// public-read. Bodies stream into pieces as they arrive and out as they are read.
// docs/protocols/s3.md lists the operations and errors.
#pragma once

#include <optional>
#include <string>

#include "client/client_core.h"
#include "gateway/credentials.h"
#include "http/http_server.h"

namespace cerulean::s3 {

struct S3GatewayOptions {
  // Hosts under this domain name a bucket first (virtual-host style): "b.s3.localhost".
  std::string virtual_host_domain = "s3.localhost";
  // Requests signed further than this from the server's clock are refused.
  int64_t clock_skew_max_s = 15 * 60;
  uint64_t piece_bytes = 8ull << 20;
  size_t list_keys_max = 1000;
};

class S3Gateway : public http::HttpHandler {
 public:
  // `objects` must outlive the gateway.
  S3Gateway(client::ClientCore& objects, gateway::Credentials credentials, S3GatewayOptions options = {});
  Task<void> Handle(http::HttpExchange& exchange) override;

  struct Request;  // a parsed request (s3_request.h)

 private:
  Task<void> Route(http::HttpExchange& exchange, Request& request);
  Task<void> ListBuckets(http::HttpExchange& exchange, Request& request);
  Task<void> CreateBucket(http::HttpExchange& exchange, Request& request);
  Task<void> DeleteBucket(http::HttpExchange& exchange, Request& request);
  Task<void> HeadBucket(http::HttpExchange& exchange, Request& request);
  Task<void> ListObjects(http::HttpExchange& exchange, Request& request);
  Task<void> PutObject(http::HttpExchange& exchange, Request& request);
  Task<void> GetObject(http::HttpExchange& exchange, Request& request);
  Task<void> DeleteObject(http::HttpExchange& exchange, Request& request);
  Task<void> CreateMultipartUpload(http::HttpExchange& exchange, Request& request);
  Task<void> UploadPart(http::HttpExchange& exchange, Request& request);
  Task<void> CompleteMultipartUpload(http::HttpExchange& exchange, Request& request);
  Task<void> AbortMultipartUpload(http::HttpExchange& exchange, Request& request);
  Task<void> ListParts(http::HttpExchange& exchange, Request& request);
  Task<void> ListMultipartUploads(http::HttpExchange& exchange, Request& request);
  Task<void> ListObjectVersions(http::HttpExchange& exchange, Request& request);
  Task<void> DeleteObjects(http::HttpExchange& exchange, Request& request);
  // Server-side copies (s3_copy.cc).
  Task<void> CopyObject(http::HttpExchange& exchange, Request& request);
  Task<void> UploadPartCopy(http::HttpExchange& exchange, Request& request);
  Task<std::optional<client::Layout>> CopySourceLayout(http::HttpExchange& exchange, Request& request);

  // A request body streamed into pieces of an upload, with its ETag (quoted MD5).
  struct Received {
    client::UploadResult upload;
    uint64_t size = 0;
    std::string etag;
  };
  // Reads the body into pieces, checking x-amz-content-sha256 and Content-MD5; false once it
  // has answered with an error.
  Task<bool> ReceiveBody(http::HttpExchange& exchange, Request& request, Received& received);
  PutOptions OptionsOf(const Request& request) const;
  // Checks the signature (or that the request may be anonymous); false once it has answered.
  Task<bool> Authenticate(http::HttpExchange& exchange, Request& request);

  client::ClientCore& objects_;
  gateway::Credentials credentials_;
  S3GatewayOptions options_;
};

}  // namespace cerulean::s3
