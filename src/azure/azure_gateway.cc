#include "azure/azure_gateway.h"

#include <openssl/crypto.h>

#include <ctime>

#include <fmt/format.h>

#include "azure/azure_request.h"
#include "gateway/http_dates.h"

namespace cerulean::azure {
namespace {

using http::HttpExchange;

bool WellFormedVersion(std::string_view version) {
  if (version.size() != 10 || version[4] != '-' || version[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(version[i]))) return false;
  }
  return true;
}

// "10.0.0.1:5000" or "[::1]:5000" -> the address alone.
std::string HostOfPeer(std::string_view peer) {
  const size_t colon = peer.rfind(':');
  if (colon != std::string_view::npos && peer.find(']') == std::string_view::npos) peer = peer.substr(0, colon);
  if (peer.starts_with('[')) peer = peer.substr(1, peer.find(']') - 1);
  return std::string(peer);
}

// The resource level and permissions a request needs from a SAS: 's' (service), 'c'
// (container) or 'o' (object), and the permission letters of which any one will do. A write
// that creates a blob may also be allowed by 'c' (create), but only if no blob of that name
// exists; 'a' (add) is for append blobs, which this server does not have.
struct Access {
  char level;
  std::string_view permissions;
  bool creates = false;
};

Access AccessOf(const AzureGateway::Request& request) {
  const std::string& method = request.method();
  const bool read = method == "GET" || method == "HEAD";
  if (request.container.empty()) return {'s', request.ParamIs("comp", "list") ? "l" : "r"};
  if (request.blob.empty()) {
    if (request.ParamIs("comp", "list")) return {'c', "l"};
    if (read) return {'c', "r"};
    if (method == "DELETE") return {'c', "d"};
    if (request.Param("comp") == nullptr) return {'c', "cw"};  // create
    return {'c', "w"};
  }
  if (read) return {'o', "r"};
  if (method == "DELETE") return {'o', "d"};
  if (request.ParamIs("comp", "block") || request.ParamIs("comp", "blocklist") || request.Param("comp") == nullptr) {
    return {'o', "w", true};
  }
  return {'o', "w"};
}

}  // namespace

AzureGateway::AzureGateway(client::ClientCore& objects, gateway::Credentials credentials, AzureGatewayOptions options)
    : objects_(objects), credentials_(std::move(credentials)), options_(std::move(options)) {
  auto key = gateway::Base64Decode(credentials_.azure_key);
  key_bytes_ = key.ok() ? *key : credentials_.azure_key;
}

Task<void> AzureGateway::Handle(HttpExchange& exchange) {
  const http::HttpRequest& http_request = exchange.request();
  Request request;
  static uint64_t next_id = 1;
  const uint64_t id = next_id++ * 0x9E3779B97F4A7C15ull;
  request.request_id = fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", static_cast<uint32_t>(id >> 32),
                                   static_cast<uint32_t>(id >> 16) & 0xffff, static_cast<uint32_t>(id) & 0xffff,
                                   static_cast<uint32_t>(next_id) & 0xffff, id & 0xffffffffffffull);
  request.version = options_.default_version;
  request.signed_request.method = http_request.method;
  request.signed_request.path = http_request.path;
  request.signed_request.headers = http_request.headers;
  request.header_names_as_sent = http_request.header_names_as_sent;
  auto query = gateway::ParseQuery(http_request.query);
  auto path = gateway::UriDecode(http_request.path);
  if (!query.ok() || !path.ok() || path->empty() || path->front() != '/') {
    co_await SendError(exchange, request, AzureError(400, "InvalidUri", "The request URI is invalid: bad percent-encoding."));
    co_return;
  }
  request.signed_request.query = std::move(*query);
  if (const std::string* version = request.Header("x-ms-version")) {
    if (!WellFormedVersion(*version) || *version > options_.newest_version) {
      co_await SendError(exchange, request,
                         AzureError(400, "InvalidHeaderValue",
                                    fmt::format("The value for one of the HTTP headers is not in the correct format: "
                                                "x-ms-version {} is not served (versions up to {})",
                                                *version, options_.newest_version)));
      co_return;
    }
    request.version = *version;
  }
  // Path style names the account first (/account/container/blob); otherwise the host does
  // (account.blob.<domain>).
  std::string_view rest = std::string_view(*path).substr(1);
  std::string host;
  if (const std::string* value = request.Header("host")) host = *value;
  const std::string& account = credentials_.azure_account;
  if (rest == account || rest.starts_with(account + "/")) {
    rest.remove_prefix(std::min(rest.size(), account.size() + 1));
    request.endpoint = fmt::format("{}://{}/{}", options_.tls ? "https" : "http", host, account);
  } else if (gateway::Lower(host).starts_with(account + ".")) {
    request.endpoint = fmt::format("{}://{}", options_.tls ? "https" : "http", host);
  } else {
    co_await SendError(exchange, request,
                       AzureError(400, "InvalidUri",
                                  fmt::format("The requested URI does not represent any resource on the server: "
                                              "the path must start with the account, /{}/",
                                              account)));
    co_return;
  }
  const size_t slash = rest.find('/');
  request.container = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) request.blob = std::string(rest.substr(slash + 1));
  if (!co_await Authenticate(exchange, request)) co_return;
  co_await Route(exchange, request);
}

Task<bool> AzureGateway::Authenticate(HttpExchange& exchange, Request& request) {
  Result<SharedKeyAuth> auth = ParseSharedKey(request.signed_request);
  if (!auth.ok() && auth.status().code() != StatusCode::kNotFound) {
    co_await SendError(exchange, request, AzureError(403, "AuthenticationFailed", std::string(auth.status().message())));
    co_return false;
  }
  if (!auth.ok()) {
    if (gateway::Find(request.signed_request.query, "sig") != nullptr) co_return co_await CheckSas(exchange, request);
    // Anonymous: reads of a public container's blobs and its listing only.
    const std::string& method = request.method();
    const bool read = method == "GET" || method == "HEAD";
    const bool blob_read = !request.blob.empty() && request.Param("comp") == nullptr;
    const bool listing = request.blob.empty() && request.ParamIs("restype", "container") && request.ParamIs("comp", "list");
    if (read && !request.container.empty() && (blob_read || listing)) {
      auto container = co_await objects_.GetContainer(request.container);
      if (container.ok() && container->public_read && (blob_read || container->public_list)) {
        request.anonymous = true;
        co_return true;
      }
    }
    co_await SendError(exchange, request,
                       AzureError(403, "NoAuthenticationInformation",
                                  "Server failed to authenticate the request: it carries no SharedKey or SAS."));
    co_return false;
  }
  if (auth->account != credentials_.azure_account) {
    co_await SendError(exchange, request,
                       AzureError(403, "AuthenticationFailed",
                                  fmt::format("Server failed to authenticate the request: account '{}' is not this server's",
                                              auth->account)));
    co_return false;
  }
  const std::string* date = request.Header("x-ms-date");
  if (date == nullptr) date = request.Header("date");
  if (date == nullptr) {
    co_await SendError(exchange, request,
                       AzureError(403, "AuthenticationFailed", "Server failed to authenticate the request: no x-ms-date or Date header."));
    co_return false;
  }
  auto dated = gateway::ParseHttpTime(*date);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (!dated.ok() || std::abs(now - *dated) > options_.clock_skew_max_s) {
    co_await SendError(exchange, request,
                       AzureError(403, "AuthenticationFailed",
                                  dated.ok() ? "Server failed to authenticate the request: the request date is more than 15 minutes from the server's time."
                                             : "Server failed to authenticate the request: the date header is not an RFC 1123 date."));
    co_return false;
  }
  // The service's header order first, then byte order, which some clients use.
  std::string string_to_sign;
  for (HeaderOrder order : {HeaderOrder::kService, HeaderOrder::kBytes}) {
    string_to_sign = SharedKeyStringToSign(request.signed_request, credentials_.azure_account, order);
    const std::string expected = SignWithKey(key_bytes_, string_to_sign);
    if (expected.size() == auth->signature.size() &&
        CRYPTO_memcmp(expected.data(), auth->signature.data(), expected.size()) == 0) {
      co_return true;
    }
  }
  co_await SendError(exchange, request,
                     AzureError(403, "AuthenticationFailed",
                                "Server failed to authenticate the request. Make sure the value of Authorization header "
                                "is formed correctly including the signature.",
                                fmt::format("The MAC signature found in the HTTP request '{}' is not the same as any "
                                            "computed signature. Server used following string to sign: '{}'.",
                                            auth->signature, string_to_sign)));
  co_return false;
}

Task<bool> AzureGateway::CheckSas(HttpExchange& exchange, Request& request) {
  const auto refuse = [&](std::string code, std::string message) {
    return SendError(exchange, request, AzureError(403, std::move(code), std::move(message)));
  };
  Result<Sas> sas = ParseSas(request.signed_request.query);
  if (!sas.ok()) {
    co_await refuse("AuthenticationFailed", fmt::format("Server failed to authenticate the request: {}", sas.status().message()));
    co_return false;
  }
  if (!sas->identifier.empty()) {
    co_await refuse("AuthenticationFailed", "Server failed to authenticate the request: stored access policies (si) are not supported.");
    co_return false;
  }
  Result<std::string> string_to_sign = sas->account
                                           ? AccountSasStringToSign(*sas, credentials_.azure_account)
                                           : ServiceSasStringToSign(*sas, credentials_.azure_account, request.container, request.blob);
  if (!string_to_sign.ok()) {
    co_await refuse("AuthenticationFailed", fmt::format("Server failed to authenticate the request: {}", string_to_sign.status().message()));
    co_return false;
  }
  const std::string expected = SignWithKey(key_bytes_, *string_to_sign);
  if (expected.size() != sas->signature.size() ||
      CRYPTO_memcmp(expected.data(), sas->signature.data(), expected.size()) != 0) {
    co_await refuse("AuthenticationFailed",
                    "Server failed to authenticate the request. Make sure the value of the sig parameter is formed correctly.");
    co_return false;
  }
  // The signature holds: now the window, the address, the protocol and the grant.
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto expiry = gateway::ParseIsoTime(sas->expiry);
  auto start = sas->start.empty() ? Result<int64_t>(int64_t{0}) : gateway::ParseIsoTime(sas->start);
  if (!expiry.ok() || !start.ok() || now < *start || now > *expiry) {
    co_await refuse("AuthenticationFailed",
                    fmt::format("Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
                                sas->start, sas->expiry, gateway::HttpTime(now * 1'000'000'000)));
    co_return false;
  }
  if (!sas->ip.empty() && !IpInRange(HostOfPeer(exchange.peer()), sas->ip)) {
    co_await refuse("AuthorizationSourceIPMismatch", "This request is not authorized to perform this operation using this source IP.");
    co_return false;
  }
  if (sas->protocol == "https" && !options_.tls) {
    co_await refuse("AuthorizationProtocolMismatch", "This request is not authorized to perform this operation using this protocol.");
    co_return false;
  }
  const Access access = AccessOf(request);
  bool resource_ok;
  if (sas->account) {
    if (sas->services.find('b') == std::string::npos) {
      co_await refuse("AuthorizationServiceMismatch", "This request is not authorized to perform this operation using this service.");
      co_return false;
    }
    resource_ok = sas->resource_types.find(access.level) != std::string::npos;
  } else if (sas->resource == "c") {
    resource_ok = access.level == 'o' || (access.level == 'c' && request.ParamIs("comp", "list"));
  } else {
    resource_ok = access.level == 'o';  // sr=b: the signature already names the blob
  }
  if (!resource_ok) {
    co_await refuse("AuthorizationResourceTypeMismatch", "This request is not authorized to perform this operation using this resource type.");
    co_return false;
  }
  if (sas->permissions.find_first_of(access.permissions) == std::string::npos && access.creates &&
      sas->permissions.find('c') != std::string::npos) {
    request.create_only = true;  // the blob handlers refuse to replace an existing blob
  } else if (sas->permissions.find_first_of(access.permissions) == std::string::npos) {
    co_await refuse("AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.");
    co_return false;
  }
  request.sas = std::move(*sas);
  co_return true;
}

Task<void> AzureGateway::Route(HttpExchange& exchange, Request& request) {
  const std::string& method = request.method();
  const std::string* comp = request.Param("comp");
  const bool read = method == "GET" || method == "HEAD";
  if (request.container.empty()) {
    if (method == "GET" && comp != nullptr && *comp == "list") co_return co_await ListContainers(exchange, request);
    if (read && request.ParamIs("restype", "account") && request.ParamIs("comp", "properties")) {
      co_return co_await AccountInfo(exchange, request);
    }
  } else if (request.blob.empty()) {
    if (!request.ParamIs("restype", "container")) {
      co_await SendError(exchange, request,
                         AzureError(400, "MissingRequiredQueryParameter",
                                    "A query parameter that's mandatory for this request is not specified: restype=container."));
      co_return;
    }
    if (method == "PUT" && comp == nullptr) co_return co_await CreateContainer(exchange, request);
    if (method == "DELETE" && comp == nullptr) co_return co_await DeleteContainer(exchange, request);
    if (read && (comp == nullptr || *comp == "metadata" || *comp == "acl")) co_return co_await ContainerProperties(exchange, request);
    if (method == "PUT" && comp != nullptr && *comp == "metadata") co_return co_await SetContainerMetadata(exchange, request);
    if (method == "GET" && comp != nullptr && *comp == "list") co_return co_await ListBlobs(exchange, request);
  } else if (method == "PUT") {
    if (comp == nullptr && request.Header("x-ms-copy-source") != nullptr) co_return co_await CopyBlob(exchange, request);
    if (comp == nullptr) co_return co_await PutBlob(exchange, request);
    if (comp != nullptr && *comp == "block" && request.Header("x-ms-copy-source") == nullptr) {
      co_return co_await PutBlock(exchange, request);
    }
    if (comp != nullptr && *comp == "blocklist") co_return co_await PutBlockList(exchange, request);
    if (comp != nullptr && *comp == "properties") co_return co_await SetBlobProperties(exchange, request);
    if (comp != nullptr && *comp == "metadata") co_return co_await SetBlobMetadata(exchange, request);
  } else if (read) {
    if (comp == nullptr) co_return co_await GetBlob(exchange, request);
    if (*comp == "blocklist") co_return co_await GetBlockList(exchange, request);
    if (*comp == "metadata") co_return co_await GetBlobMetadata(exchange, request);
  } else if (method == "DELETE" && comp == nullptr) {
    co_return co_await DeleteBlob(exchange, request);
  }
  co_await SendError(exchange, request,
                     AzureError(501, "NotImplemented",
                                fmt::format("{} {}{} is not supported by this server yet", method,
                                            request.blob.empty() ? (request.container.empty() ? "on the service" : "on a container")
                                                                 : "on a blob",
                                            comp != nullptr ? " with comp=" + *comp : "")));
}

}  // namespace cerulean::azure
