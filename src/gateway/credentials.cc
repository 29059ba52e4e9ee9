#include "gateway/credentials.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cerulean::gateway {
namespace {

Result<std::string> RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    return Status::Internal("OpenSSL's RAND_bytes failed");
  }
  return bytes;
}

// `count` characters of `alphabet`, uniformly.
Result<std::string> RandomText(size_t count, std::string_view alphabet) {
  std::string text;
  while (text.size() < count) {
    ASSIGN_OR_RETURN(std::string bytes, RandomBytes(count));
    for (unsigned char c : bytes) {
      // Rejection sampling keeps the characters uniform.
      if (c < 256 - 256 % alphabet.size() && text.size() < count) text += alphabet[c % alphabet.size()];
    }
  }
  return text;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

}  // namespace

Result<Credentials> LoadOrCreateCredentials(const std::string& directory, bool* created) {
  const std::string path = directory + "/credentials.json";
  *created = false;
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) return Status::DataLoss(fmt::format("{} is not a JSON object", path));
    Credentials credentials;
    for (auto [key, field] : {std::pair{"s3_access_key", &credentials.s3_access_key},
                              std::pair{"s3_secret_key", &credentials.s3_secret_key},
                              std::pair{"azure_account", &credentials.azure_account},
                              std::pair{"azure_key", &credentials.azure_key}}) {
      if (!json.contains(key) || !json[key].is_string() || json[key].get<std::string>().empty()) {
        return Status::DataLoss(fmt::format("{} has no '{}'", path, key));
      }
      *field = json[key].get<std::string>();
    }
    return credentials;
  }
  Credentials credentials;
  ASSIGN_OR_RETURN(credentials.s3_access_key, RandomText(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"));
  ASSIGN_OR_RETURN(credentials.s3_secret_key,
                   RandomText(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"));
  ASSIGN_OR_RETURN(std::string key, RandomBytes(64));
  credentials.azure_key = Base64(key);
  const nlohmann::json json = {{"s3_access_key", credentials.s3_access_key},
                               {"s3_secret_key", credentials.s3_secret_key},
                               {"azure_account", credentials.azure_account},
                               {"azure_key", credentials.azure_key}};
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << json.dump(2) << "\n";
    if (!out) return Status::Internal(fmt::format("cannot write {}", temporary));
  }
  chmod(temporary.c_str(), S_IRUSR | S_IWUSR);
  std::filesystem::rename(temporary, path, error);
  if (error) return Status::Internal(fmt::format("cannot store {}: {}", path, error.message()));
  *created = true;
  return credentials;
}

}  // namespace cerulean::gateway
