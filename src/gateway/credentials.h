// The gateways' credentials, kept in the data directory: an S3 access key pair and an Azure
// storage account key. The first start of a server makes them (random, from OpenSSL), stores
// them readable by the owner only, and prints them; later starts load them.
// docs/OPERATIONS.md, "Gateway credentials".
#pragma once

#include <string>

#include "base/result.h"

namespace cerulean::gateway {

struct Credentials {
  std::string s3_access_key;
  std::string s3_secret_key;
  std::string azure_account = "devstoreaccount1";
  std::string azure_key;  // base64 of 64 random bytes
};

// <directory>/credentials.json, loaded, or made and stored; `created` tells which.
Result<Credentials> LoadOrCreateCredentials(const std::string& directory, bool* created);

}  // namespace cerulean::gateway
