// libFuzzer target: HTTP request parsing (fed in pieces, as a socket would deliver it) and
// the signature canonicalisation of whatever request comes out: Azure's SharedKey string to
// sign (both header orders) and SAS parameters, strings to sign, times and address ranges;
// S3's percent-decoding, query parsing, SigV4 parameters, canonical request and string to
// sign; and the bytes after the head as an aws-chunked body. Nothing may crash, hang or read out of bounds,
// whatever the bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "azure/shared_key.h"
#include "gateway/http_dates.h"
#include "http/http_request_parser.h"
#include "s3/aws_chunked.h"
#include "s3/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the piece size the bytes are fed in.
  const size_t piece = 1 + data[0] % 64;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1;
  cerulean::http::HttpRequestParser parser(4096);
  while (left > 0 && parser.error().ok()) {
    const size_t n = std::min(piece, left);
    size_t offset = 0;
    while (offset < n && parser.error().ok()) {
      const size_t taken = parser.Feed(bytes + offset, n - offset);
      (void)parser.TakeBody();
      if (parser.message_complete()) parser.Reset();
      if (taken == 0 && !parser.head_complete()) break;
      offset += taken;
      if (taken == 0) break;
    }
    bytes += n;
    left -= n;
    if (parser.head_complete()) break;
  }
  if (!parser.head_complete()) return 0;
  // Whatever follows the head, decoded as an aws-chunked body.
  cerulean::s3::AwsChunkedDecoder decoder("key", "20240101T000000Z", "20240101/us-east-1/s3/aws4_request",
                                          std::string(64, 'a'));
  std::string decoded;
  for (size_t at = 0; at < left; at += piece) {
    if (!decoder.Feed(std::string_view(bytes + at, std::min(piece, left - at)), decoded).ok()) break;
  }
  (void)decoder.Finish();
  const cerulean::http::HttpRequest& request = parser.request();
  auto path = cerulean::s3::UriDecode(request.path);
  auto query = cerulean::s3::ParseQuery(request.query);
  if (!path.ok() || !query.ok()) return 0;
  // Azure: SharedKey and SAS.
  namespace azure = cerulean::azure;
  const azure::AzureRequest azure_request{.method = request.method, .path = request.path, .query = *query, .headers = request.headers};
  (void)azure::ParseSharedKey(azure_request);
  for (azure::HeaderOrder order : {azure::HeaderOrder::kService, azure::HeaderOrder::kBytes}) {
    (void)azure::SignWithKey("key", azure::SharedKeyStringToSign(azure_request, "account", order));
  }
  if (const std::string* date = cerulean::gateway::Find(request.headers, "x-ms-date")) (void)cerulean::gateway::ParseHttpTime(*date);
  if (auto sas = azure::ParseSas(*query); sas.ok()) {
    (void)azure::ServiceSasStringToSign(*sas, "account", "container", *path);
    (void)azure::AccountSasStringToSign(*sas, "account");
    (void)cerulean::gateway::ParseIsoTime(sas->start);
    (void)cerulean::gateway::ParseIsoTime(sas->expiry);
    (void)azure::IpInRange("127.0.0.1", sas->ip);
    (void)cerulean::gateway::Base64Decode(sas->signature);
  }
  const cerulean::s3::SignedRequest signed_request{
      .method = request.method, .path = *path, .query = *query, .headers = request.headers};
  auto auth = cerulean::s3::ParseSigV4(signed_request);
  if (!auth.ok()) return 0;
  const std::string canonical = cerulean::s3::CanonicalRequest(signed_request, *auth);
  const std::string to_sign = cerulean::s3::StringToSign(*auth, canonical);
  (void)cerulean::s3::Sign("secret", *auth, to_sign);
  (void)cerulean::s3::ParseAmzDate(auth->amz_date);
  return 0;
}
