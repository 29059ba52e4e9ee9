#include "kv/kv_key.h"

#include <openssl/evp.h>

#include <fmt/format.h>

#include "base/check.h"
#include "base/little_endian.h"

namespace cerulean::kv {
namespace {

// SHA-256 over several spans, through OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new()) {
    CHECK(context_ != nullptr && EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) == 1);
  }
  ~Sha256() { EVP_MD_CTX_free(context_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t length) { CHECK(EVP_DigestUpdate(context_, data, length) == 1); }
  KvKey Finish() {
    KvKey key;
    unsigned int length = 0;
    CHECK(EVP_DigestFinal_ex(context_, key.bytes.data(), &length) == 1 && length == 32);
    return key;
  }

 private:
  EVP_MD_CTX* context_;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string KvKey::Hex() const {
  std::string hex;
  hex.reserve(64);
  for (uint8_t byte : bytes) fmt::format_to(std::back_inserter(hex), "{:02x}", byte);
  return hex;
}

Result<KvKey> KvKey::FromHex(std::string_view hex) {
  if (hex.size() != 64) return Status::InvalidArgument(fmt::format("a KV key is 64 hex digits, not {} characters", hex.size()));
  KvKey key;
  for (size_t i = 0; i < 32; i++) {
    const int high = HexDigit(hex[2 * i]), low = HexDigit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return Status::InvalidArgument("a KV key has a character that is not a hex digit");
    key.bytes[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return key;
}

PrefixHasher::PrefixHasher(std::string_view seed) {
  Sha256 hash;
  constexpr std::string_view kDomain = "cerulean.kv.prefix.v1";
  const char separator = 0;
  hash.Update(kDomain.data(), kDomain.size());
  hash.Update(&separator, 1);
  hash.Update(seed.data(), seed.size());
  root_ = hash.Finish();
}

KvKey PrefixHasher::Next(const KvKey& parent, std::span<const uint32_t> block) {
  Sha256 hash;
  hash.Update(parent.bytes.data(), parent.bytes.size());
  std::byte word[4];
  StoreLittleEndian<uint32_t>(word, static_cast<uint32_t>(block.size()));
  hash.Update(word, 4);
  for (uint32_t token : block) {
    StoreLittleEndian<uint32_t>(word, token);
    hash.Update(word, 4);
  }
  return hash.Finish();
}

KvKey KeyOfName(std::string_view domain, std::string_view name) {
  Sha256 hash;
  const char separator = 0;
  hash.Update(domain.data(), domain.size());
  hash.Update(&separator, 1);
  hash.Update(name.data(), name.size());
  return hash.Finish();
}

std::vector<KvKey> PrefixHasher::Keys(std::span<const uint32_t> tokens, size_t block_tokens) const {
  CHECK(block_tokens > 0);
  std::vector<KvKey> keys;
  keys.reserve(tokens.size() / block_tokens);
  KvKey parent = root_;
  for (size_t at = 0; at + block_tokens <= tokens.size(); at += block_tokens) {
    parent = Next(parent, tokens.subspan(at, block_tokens));
    keys.push_back(parent);
  }
  return keys;
}

}  // namespace cerulean::kv
