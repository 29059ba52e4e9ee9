// What the S3 gateway's files share (s3_gateway.cc, s3_multipart.cc, s3_copy.cc): a parsed
// request, S3's error and XML responses, and the multipart conventions. Internal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#include "s3/s3_gateway.h"
#include "s3/sigv4.h"

namespace cerulean::s3 {

struct S3Gateway::Request {
  std::string bucket;
  std::string key;
  Pairs query;
  SignedRequest signed_request;
  std::optional<SigV4> auth;
  std::string request_id;

  const std::string* Param(std::string_view name) const { return gateway::Find(query, name); }
  const std::string* Header(std::string_view name) const { return gateway::Find(signed_request.headers, name); }
};

// Not an aggregate: g++ 12 frees the strings of a braced aggregate temporary passed by value
// to a coroutine twice (docs/ARCHITECTURE.md, "Compiler notes").
struct S3Error {
  S3Error(int s, std::string c, std::string m) : status(s), code(std::move(c)), message(std::move(m)) {}
  int status;
  std::string code;
  std::string message;
};

// A Status of the object client as S3's error.
S3Error ErrorOf(const Status& status, bool bucket_level);

std::string XmlText(const pugi::xml_document& document);
// The declaration and a root element in S3's namespace.
pugi::xml_node Root(pugi::xml_document& document, const char* name);
void Text(pugi::xml_node parent, const char* name, std::string_view value);

Task<void> SendError(http::HttpExchange& exchange, const std::string& request_id, const std::string& resource, S3Error error);
Task<void> SendXml(http::HttpExchange& exchange, const std::string& request_id, const pugi::xml_document& document);

// Multipart uploads are staged uploads of the object client, a block per part.
inline constexpr uint64_t kPartBytesMin = 5ull << 20;  // every part but the last, as S3 requires
inline constexpr uint32_t kPartNumberMax = 10000;
// A part's block id: its number, zero-padded so that ids sort as numbers do.
std::string PartId(uint32_t number);
// The part number of `text` (1..10000), or 0.
uint32_t ParsePartNumber(std::string_view text);
std::string BareEtag(std::string_view etag);
S3Error UploadErrorOf(const Status& status);

}  // namespace cerulean::s3
