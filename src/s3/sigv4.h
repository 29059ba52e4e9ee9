// AWS Signature Version 4 as S3 uses it: the canonical request, the string to sign and the
// signature, from the Authorization header or from a presigned URL's query. Pure functions over
// a request's method, path, query and headers, so that the gateway, the tests and the fuzzer
// share them. docs/protocols/s3.md, "Authentication".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "gateway/uri.h"

namespace cerulean::s3 {

using gateway::Pairs;
using gateway::ParseQuery;
using gateway::UriDecode;
using gateway::UriEncode;

// What a signature covers.
struct SignedRequest {
  std::string method;
  std::string path;  // decoded
  Pairs query;       // decoded
  Pairs headers;     // names lowercase
};

struct SigV4 {
  std::string access_key;
  std::string date;     // yyyymmdd, the scope's
  std::string region;
  std::string service;  // "s3"
  std::vector<std::string> signed_headers;  // lowercase, sorted
  std::string signature;                    // lowercase hex
  std::string amz_date;                     // yyyymmddThhmmssZ
  std::string payload_hash;                 // hex, UNSIGNED-PAYLOAD, or STREAMING-...
  bool presigned = false;
  int64_t expires_s = 0;  // presigned only
};

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

// The request's signature parameters: from "Authorization: AWS4-HMAC-SHA256 ...", or from the
// X-Amz-* query parameters of a presigned URL. NotFound if it has neither (anonymous);
// InvalidArgument if they are malformed.
Result<SigV4> ParseSigV4(const SignedRequest& request);

std::string CanonicalRequest(const SignedRequest& request, const SigV4& auth);
std::string StringToSign(const SigV4& auth, std::string_view canonical_request);
// Lowercase hex of the signature with `secret_key`.
std::string Sign(std::string_view secret_key, const SigV4& auth, std::string_view string_to_sign);
// The signing key (for aws-chunked bodies, whose chunks are signed with it in turn).
std::string SigningKey(std::string_view secret_key, const SigV4& auth);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
std::string Sha256Hex(std::string_view data);

// Seconds since the epoch of an ISO 8601 basic time (yyyymmddThhmmssZ).
Result<int64_t> ParseAmzDate(std::string_view text);

}  // namespace cerulean::s3
