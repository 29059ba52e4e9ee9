// Azure Storage authentication for the blob service: SharedKey request signatures and shared
// access signatures (service and account SAS). Pure functions over a request's method, path,
// query and headers, shared by the gateway, the tests and the fuzzer.
// docs/protocols/azure_blob.md, "Authentication".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "gateway/uri.h"

namespace cerulean::azure {

using gateway::Pairs;

// What a signature covers.
struct AzureRequest {
  std::string method;
  std::string path;  // as sent, percent-encoded
  Pairs query;       // decoded
  Pairs headers;     // names lowercase
};

// The order of the canonicalized x-ms-* headers. The service sorts them with a culture-aware
// collation in which '-' sorts before '_' and both before digits and letters; some clients sort
// by bytes. A verifier tries both.
enum class HeaderOrder { kService, kBytes };

// "Authorization: SharedKey account:signature". NotFound when the header is absent;
// InvalidArgument when it is malformed or another scheme.
struct SharedKeyAuth {
  std::string account;
  std::string signature;  // base64
};
Result<SharedKeyAuth> ParseSharedKey(const AzureRequest& request);

// VERB, the eleven standard headers, the canonicalized x-ms-* headers and the canonicalized
// resource (/account + path, then each query parameter on its own line).
std::string SharedKeyStringToSign(const AzureRequest& request, std::string_view account, HeaderOrder order);

// Base64 of HMAC-SHA256 with the account key (the raw bytes, decoded from base64).
std::string SignWithKey(std::string_view key_bytes, std::string_view string_to_sign);

// A shared access signature from the query. NotFound when there is no `sig`.
struct Sas {
  bool account = false;  // an account SAS (has ss and srt)
  std::string version;   // sv
  std::string resource;  // sr: b, c (service SAS)
  std::string services;  // ss (account SAS)
  std::string resource_types;  // srt (account SAS): s, c, o
  std::string permissions;     // sp
  std::string start;           // st
  std::string expiry;          // se
  std::string ip;              // sip
  std::string protocol;        // spr
  std::string identifier;      // si
  std::string encryption_scope;  // ses
  std::string cache_control, content_disposition, content_encoding, content_language, content_type;  // rscc..rsct
  std::string snapshot;
  std::string signature;  // sig
};
Result<Sas> ParseSas(const Pairs& query);

// The string a service SAS signs for `container` and, for sr=b, `blob` (decoded names).
// InvalidArgument for a signed version older than 2018-11-09.
Result<std::string> ServiceSasStringToSign(const Sas& sas, std::string_view account, std::string_view container,
                                           std::string_view blob);
Result<std::string> AccountSasStringToSign(const Sas& sas, std::string_view account);

// True when `address` (IPv4) is `range` ("a.b.c.d" or "a.b.c.d-e.f.g.h").
bool IpInRange(std::string_view address, std::string_view range);

}  // namespace cerulean::azure
