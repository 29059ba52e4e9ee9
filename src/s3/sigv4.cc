#include "s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace cerulean::s3 {
namespace {

using gateway::Find;

std::string Hex(const unsigned char* bytes, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (size_t i = 0; i < length; i++) {
    hex[2 * i] = kDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return hex;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A header value as canonical headers want it: trimmed, inner runs of spaces made one.
std::string CanonicalValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : Trim(value)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "AKID/20130524/us-east-1/s3/aws4_request"
Status ParseCredential(std::string_view text, SigV4& auth) {
  const std::vector<std::string> parts = Split(text, '/');
  if (parts.size() != 5 || parts[0].empty() || parts[1].size() != 8 || parts[4] != "aws4_request") {
    return Status::InvalidArgument(fmt::format("the credential '{}' is not <key>/<yyyymmdd>/<region>/<service>/aws4_request", text));
  }
  auth.access_key = parts[0];
  auth.date = parts[1];
  auth.region = parts[2];
  auth.service = parts[3];
  return Status::Ok();
}

Status ParseSignedHeaders(std::string_view text, SigV4& auth) {
  auth.signed_headers = Split(text, ';');
  for (const std::string& name : auth.signed_headers) {
    if (name.empty()) return Status::InvalidArgument("an empty name in SignedHeaders");
  }
  std::sort(auth.signed_headers.begin(), auth.signed_headers.end());
  return Status::Ok();
}

}  // namespace

Result<SigV4> ParseSigV4(const SignedRequest& request) {
  SigV4 auth;
  if (const std::string* header = Find(request.headers, "authorization")) {
    constexpr std::string_view kScheme = "AWS4-HMAC-SHA256";
    std::string_view text = *header;
    if (!text.starts_with(kScheme)) {
      return Status::InvalidArgument("only AWS4-HMAC-SHA256 authorization is supported");
    }
    text.remove_prefix(kScheme.size());
    bool credential = false, signed_headers = false, signature = false;
    for (const std::string& raw : Split(text, ',')) {
      const std::string_view item = Trim(raw);
      const size_t equals = item.find('=');
      if (equals == std::string_view::npos) return Status::InvalidArgument(fmt::format("'{}' in Authorization", item));
      const std::string_view key = item.substr(0, equals), value = item.substr(equals + 1);
      if (key == "Credential") {
        RETURN_IF_ERROR(ParseCredential(value, auth));
        credential = true;
      } else if (key == "SignedHeaders") {
        RETURN_IF_ERROR(ParseSignedHeaders(value, auth));
        signed_headers = true;
      } else if (key == "Signature") {
        auth.signature = std::string(value);
        signature = true;
      }
    }
    if (!credential || !signed_headers || !signature) {
      return Status::InvalidArgument("Authorization needs Credential, SignedHeaders and Signature");
    }
    const std::string* date = Find(request.headers, "x-amz-date");
    if (date == nullptr) date = Find(request.headers, "date");
    if (date == nullptr) return Status::InvalidArgument("a signed request needs X-Amz-Date");
    auth.amz_date = *date;
    const std::string* hash = Find(request.headers, "x-amz-content-sha256");
    auth.payload_hash = hash != nullptr ? *hash : std::string(kUnsignedPayload);
    return auth;
  }
  const std::string* algorithm = Find(request.query, "X-Amz-Algorithm");
  if (algorithm == nullptr) return Status::NotFound("the request is not signed");
  if (*algorithm != "AWS4-HMAC-SHA256") return Status::InvalidArgument("only AWS4-HMAC-SHA256 presigned URLs are supported");
  const std::string* credential = Find(request.query, "X-Amz-Credential");
  const std::string* date = Find(request.query, "X-Amz-Date");
  const std::string* expires = Find(request.query, "X-Amz-Expires");
  const std::string* signed_headers = Find(request.query, "X-Amz-SignedHeaders");
  const std::string* signature = Find(request.query, "X-Amz-Signature");
  if (credential == nullptr || date == nullptr || expires == nullptr || signed_headers == nullptr || signature == nullptr) {
    return Status::InvalidArgument(
        "a presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature");
  }
  RETURN_IF_ERROR(ParseCredential(*credential, auth));
  RETURN_IF_ERROR(ParseSignedHeaders(*signed_headers, auth));
  auth.signature = *signature;
  auth.amz_date = *date;
  auth.presigned = true;
  char* end = nullptr;
  auth.expires_s = std::strtoll(expires->c_str(), &end, 10);
  if (expires->empty() || *end != '\0' || auth.expires_s < 1 || auth.expires_s > 7 * 24 * 3600) {
    return Status::InvalidArgument("X-Amz-Expires must be 1 to 604800 seconds");
  }
  const std::string* hash = Find(request.headers, "x-amz-content-sha256");
  auth.payload_hash = hash != nullptr ? *hash : std::string(kUnsignedPayload);
  return auth;
}

std::string CanonicalRequest(const SignedRequest& request, const SigV4& auth) {
  std::string canonical = request.method + "\n";
  canonical += UriEncode(request.path.empty() ? "/" : request.path, /*keep_slash=*/true) + "\n";
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, value] : request.query) {
    if (auth.presigned && name == "X-Amz-Signature") continue;
    query.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); i++) {
    if (i > 0) canonical += '&';
    canonical += query[i].first + "=" + query[i].second;
  }
  canonical += "\n";
  for (const std::string& name : auth.signed_headers) {
    // Repeated headers are joined with commas.
    std::string values;
    for (const auto& [key, value] : request.headers) {
      if (key != name) continue;
      if (!values.empty()) values += ',';
      values += CanonicalValue(value);
    }
    canonical += name + ":" + values + "\n";
  }
  canonical += "\n";
  for (size_t i = 0; i < auth.signed_headers.size(); i++) {
    if (i > 0) canonical += ';';
    canonical += auth.signed_headers[i];
  }
  canonical += "\n";
  canonical += auth.presigned ? std::string(kUnsignedPayload) : auth.payload_hash;
  return canonical;
}

std::string StringToSign(const SigV4& auth, std::string_view canonical_request) {
  return fmt::format("AWS4-HMAC-SHA256\n{}\n{}/{}/{}/aws4_request\n{}", auth.amz_date, auth.date, auth.region,
                     auth.service, Sha256Hex(canonical_request));
}

std::string SigningKey(std::string_view secret_key, const SigV4& auth) {
  const std::string date_key = Hmac("AWS4" + std::string(secret_key), auth.date);
  const std::string region_key = Hmac(date_key, auth.region);
  const std::string service_key = Hmac(region_key, auth.service);
  return Hmac(service_key, "aws4_request");
}

std::string Sign(std::string_view secret_key, const SigV4& auth, std::string_view string_to_sign) {
  const std::string mac = Hmac(SigningKey(secret_key, auth), string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  const std::string mac = Hmac(key, data);
  return Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return Hex(digest, length);
}

Result<int64_t> ParseAmzDate(std::string_view text) {
  // yyyymmddThhmmssZ
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
    return Status::InvalidArgument(fmt::format("'{}' is not an ISO 8601 basic UTC time", text));
  }
  std::tm parts{};
  int values[6];
  const size_t offsets[6] = {0, 4, 6, 9, 11, 13};
  const size_t lengths[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; i++) {
    int value = 0;
    for (size_t j = 0; j < lengths[i]; j++) {
      const char c = text[offsets[i] + j];
      if (c < '0' || c > '9') return Status::InvalidArgument(fmt::format("'{}' is not an ISO 8601 basic UTC time", text));
      value = value * 10 + (c - '0');
    }
    values[i] = value;
  }
  parts.tm_year = values[0] - 1900;
  parts.tm_mon = values[1] - 1;
  parts.tm_mday = values[2];
  parts.tm_hour = values[3];
  parts.tm_min = values[4];
  parts.tm_sec = values[5];
  return static_cast<int64_t>(timegm(&parts));
}

}  // namespace cerulean::s3
