// AzureGateway: the Azure Blob service's REST API over Cerulean's containers and objects, so
// that the Azure SDKs, azure-cli and rclone's azureblob remote work unchanged. Containers are
// containers and block blobs are objects: what Azure puts, S3 and the native client read.
// Requests are path-style (/account/container/blob) or name the account in the host
// (account.blob.<domain>); each is authenticated with SharedKey or a SAS (service or account)
// against the server's account key, except reads of containers marked public. Put Block and Put
// Block List are the object client's staged blocks under the blob's implicit upload.
// docs/protocols/azure_blob.md lists the operations and errors.
#pragma once

#include <string>

#include "client/client_core.h"
#include "gateway/credentials.h"
#include "http/http_server.h"

namespace cerulean::azure {

struct AzureGatewayOptions {
  // Requests dated further than this from the server's clock are refused.
  int64_t clock_skew_max_s = 15 * 60;
  uint64_t piece_bytes = 8ull << 20;
  // The newest x-ms-version served; a request naming a later one gets InvalidHeaderValue.
  std::string newest_version = "2025-11-05";
  // The version answered when a request names none.
  std::string default_version = "2021-12-02";
  bool tls = false;  // requests arrive over https (a SAS may require it)
};

class AzureGateway : public http::HttpHandler {
 public:
  // `objects` must outlive the gateway.
  AzureGateway(client::ClientCore& objects, gateway::Credentials credentials, AzureGatewayOptions options = {});
  Task<void> Handle(http::HttpExchange& exchange) override;

  struct Request;  // a parsed request (azure_request.h)

 private:
  Task<void> Route(http::HttpExchange& exchange, Request& request);
  // Checks SharedKey, a SAS, or that an anonymous request reads a public container; false once
  // it has answered with an error.
  Task<bool> Authenticate(http::HttpExchange& exchange, Request& request);
  Task<bool> CheckSas(http::HttpExchange& exchange, Request& request);

  // The service and containers (azure_containers.cc).
  Task<void> ListContainers(http::HttpExchange& exchange, Request& request);
  Task<void> AccountInfo(http::HttpExchange& exchange, Request& request);
  Task<void> CreateContainer(http::HttpExchange& exchange, Request& request);
  Task<void> DeleteContainer(http::HttpExchange& exchange, Request& request);
  Task<void> ContainerProperties(http::HttpExchange& exchange, Request& request);
  Task<void> SetContainerMetadata(http::HttpExchange& exchange, Request& request);
  Task<void> ListBlobs(http::HttpExchange& exchange, Request& request);

  // Blobs (azure_blobs.cc).
  Task<void> PutBlob(http::HttpExchange& exchange, Request& request);
  Task<void> PutBlock(http::HttpExchange& exchange, Request& request);
  Task<void> PutBlockList(http::HttpExchange& exchange, Request& request);
  Task<void> GetBlockList(http::HttpExchange& exchange, Request& request);
  Task<void> GetBlob(http::HttpExchange& exchange, Request& request);
  Task<void> GetBlobMetadata(http::HttpExchange& exchange, Request& request);
  Task<void> SetBlobProperties(http::HttpExchange& exchange, Request& request);
  Task<void> SetBlobMetadata(http::HttpExchange& exchange, Request& request);
  Task<void> DeleteBlob(http::HttpExchange& exchange, Request& request);
  Task<void> CopyBlob(http::HttpExchange& exchange, Request& request);

  client::ClientCore& objects_;
  gateway::Credentials credentials_;
  std::string key_bytes_;  // the account key, decoded
  AzureGatewayOptions options_;
};

}  // namespace cerulean::azure
