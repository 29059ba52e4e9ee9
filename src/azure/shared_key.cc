#include "azure/shared_key.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace cerulean::azure {
namespace {

const std::string* Header(const AzureRequest& request, std::string_view name) {
  return gateway::Find(request.headers, name);
}

// The service's collation of header names, as the SDKs emulate it: this alphabet's order.
constexpr std::string_view kServiceAlphabet =
    "-!#$%&*.^_|~+\"'(),/`0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz{}";

size_t ServiceWeight(char c) {
  const size_t at = kServiceAlphabet.find(c);
  return at == std::string_view::npos ? kServiceAlphabet.size() + static_cast<unsigned char>(c) : at;
}

bool ServiceLess(std::string_view a, std::string_view b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](char x, char y) { return ServiceWeight(x) < ServiceWeight(y); });
}

}  // namespace

Result<SharedKeyAuth> ParseSharedKey(const AzureRequest& request) {
  const std::string* header = Header(request, "authorization");
  if (header == nullptr) return Status::NotFound("no Authorization header");
  std::string_view value = *header;
  constexpr std::string_view kScheme = "SharedKey ";
  if (!value.starts_with(kScheme)) {
    return Status::InvalidArgument("the Authorization header is not SharedKey (bearer tokens are not supported)");
  }
  value.remove_prefix(kScheme.size());
  const size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) {
    return Status::InvalidArgument("the SharedKey Authorization header is not 'SharedKey account:signature'");
  }
  return SharedKeyAuth{std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))};
}

std::string SharedKeyStringToSign(const AzureRequest& request, std::string_view account, HeaderOrder order) {
  std::string text = request.method + "\n";
  for (const char* name : {"content-encoding", "content-language", "content-length", "content-md5", "content-type",
                           "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"}) {
    const std::string* value = Header(request, name);
    // Content-Length is signed empty when zero (service versions from 2015-02-21).
    if (value != nullptr && !(std::string_view(name) == "content-length" && *value == "0")) text += *value;
    text += '\n';
  }
  std::vector<std::pair<std::string, std::string>> ms_headers;
  for (const auto& [name, value] : request.headers) {
    if (name.starts_with("x-ms-")) ms_headers.emplace_back(name, value);
  }
  if (order == HeaderOrder::kService) {
    std::stable_sort(ms_headers.begin(), ms_headers.end(),
                     [](const auto& a, const auto& b) { return ServiceLess(a.first, b.first); });
  } else {
    std::stable_sort(ms_headers.begin(), ms_headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (const auto& [name, value] : ms_headers) text += name + ":" + value + "\n";
  text += "/";
  text += account;
  text += request.path.empty() ? "/" : request.path;
  std::map<std::string, std::vector<std::string>> parameters;  // by lowercase name
  for (const auto& [name, value] : request.query) parameters[gateway::Lower(name)].push_back(value);
  for (auto& [name, values] : parameters) {
    std::sort(values.begin(), values.end());
    text += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); i++) text += (i == 0 ? "" : ",") + values[i];
  }
  return text;
}

std::string SignWithKey(std::string_view key_bytes, std::string_view string_to_sign) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_bytes.data(), static_cast<int>(key_bytes.size()),
       reinterpret_cast<const unsigned char*>(string_to_sign.data()), string_to_sign.size(), mac, &length);
  return gateway::Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), length));
}

Result<Sas> ParseSas(const Pairs& query) {
  const std::string* sig = gateway::Find(query, "sig");
  if (sig == nullptr) return Status::NotFound("no sig parameter");
  Sas sas;
  sas.signature = *sig;
  const auto take = [&](std::string_view name, std::string& into) {
    if (const std::string* value = gateway::Find(query, name)) into = *value;
  };
  take("sv", sas.version);
  take("sr", sas.resource);
  take("ss", sas.services);
  take("srt", sas.resource_types);
  take("sp", sas.permissions);
  take("st", sas.start);
  take("se", sas.expiry);
  take("sip", sas.ip);
  take("spr", sas.protocol);
  take("si", sas.identifier);
  take("ses", sas.encryption_scope);
  take("rscc", sas.cache_control);
  take("rscd", sas.content_disposition);
  take("rsce", sas.content_encoding);
  take("rscl", sas.content_language);
  take("rsct", sas.content_type);
  take("snapshot", sas.snapshot);
  sas.account = !sas.services.empty() || !sas.resource_types.empty();
  if (sas.version.empty()) return Status::InvalidArgument("the SAS has no signed version (sv)");
  if (sas.account && (sas.services.empty() || sas.resource_types.empty())) {
    return Status::InvalidArgument("an account SAS needs both ss and srt");
  }
  if (!sas.account && sas.resource.empty()) return Status::InvalidArgument("a service SAS needs sr");
  return sas;
}

Result<std::string> ServiceSasStringToSign(const Sas& sas, std::string_view account, std::string_view container,
                                           std::string_view blob) {
  if (sas.version < "2018-11-09") {
    return Status::InvalidArgument(fmt::format("SAS version {} is not supported (2018-11-09 or later)", sas.version));
  }
  std::string resource = fmt::format("/blob/{}/{}", account, container);
  if (sas.resource == "b" || sas.resource == "bs" || sas.resource == "bv") resource += "/" + std::string(blob);
  std::string text = sas.permissions + "\n" + sas.start + "\n" + sas.expiry + "\n" + resource + "\n" + sas.identifier +
                     "\n" + sas.ip + "\n" + sas.protocol + "\n" + sas.version + "\n" + sas.resource + "\n" + sas.snapshot +
                     "\n";
  if (sas.version >= "2020-12-06") text += sas.encryption_scope + "\n";
  text += sas.cache_control + "\n" + sas.content_disposition + "\n" + sas.content_encoding + "\n" +
          sas.content_language + "\n" + sas.content_type;
  return text;
}

Result<std::string> AccountSasStringToSign(const Sas& sas, std::string_view account) {
  if (sas.version < "2015-04-05") {
    return Status::InvalidArgument(fmt::format("SAS version {} is not supported (2015-04-05 or later)", sas.version));
  }
  std::string text = std::string(account) + "\n" + sas.permissions + "\n" + sas.services + "\n" + sas.resource_types +
                     "\n" + sas.start + "\n" + sas.expiry + "\n" + sas.ip + "\n" + sas.protocol + "\n" + sas.version + "\n";
  if (sas.version >= "2020-12-06") text += sas.encryption_scope + "\n";
  return text;
}

bool IpInRange(std::string_view address, std::string_view range) {
  const auto parse = [](std::string_view text) -> std::optional<uint32_t> {
    in_addr parsed{};
    if (inet_pton(AF_INET, std::string(text).c_str(), &parsed) != 1) return std::nullopt;
    return ntohl(parsed.s_addr);
  };
  const size_t dash = range.find('-');
  const auto low = parse(range.substr(0, dash));
  const auto high = dash == std::string_view::npos ? low : parse(range.substr(dash + 1));
  const auto at = parse(address);
  return low && high && at && *low <= *at && *at <= *high;
}

}  // namespace cerulean::azure
