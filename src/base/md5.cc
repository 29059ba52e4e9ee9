#include "base/md5.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "base/check.h"

namespace cerulean {

struct Md5::State {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  ~State() { EVP_MD_CTX_free(context); }
};

Md5::Md5() : state_(std::make_unique<State>()) {
  CHECK(state_->context != nullptr && EVP_DigestInit_ex(state_->context, EVP_md5(), nullptr) == 1);
}

Md5::~Md5() = default;

void Md5::Update(std::span<const std::byte> data) {
  CHECK(EVP_DigestUpdate(state_->context, data.data(), data.size()) == 1);
}

std::string Md5::Finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CHECK(EVP_DigestFinal_ex(state_->context, digest, &length) == 1);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string HexOf(std::string_view bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
  return hex;
}

std::string BytesOfHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return {};
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    for (size_t j = 0; j < 2; j++) {
      const char c = hex[i + j];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<unsigned>(c - 'A' + 10);
      else return {};
    }
    bytes.push_back(static_cast<char>(value));
  }
  return bytes;
}

}  // namespace cerulean
