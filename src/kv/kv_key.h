// KvKey: the 32-byte digest that names a KV-cache entry, and the prefix-hash chain that clients
// compute over token blocks (docs/protocols/kv_cache.md, "Keys").
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cerulean::kv {

struct KvKey {
  std::array<uint8_t, 32> bytes{};

  friend bool operator==(const KvKey&, const KvKey&) = default;
  // The first and second 8 bytes, little-endian: what the in-memory index keeps of a key.
  uint64_t word(size_t i) const {
    uint64_t w;
    std::memcpy(&w, bytes.data() + 8 * i, 8);
    return w;
  }
  std::string Hex() const;
  // 64 hex digits, either case.
  static Result<KvKey> FromHex(std::string_view hex);
  static KvKey FromBytes(std::span<const std::byte, 32> raw) {
    KvKey key;
    std::memcpy(key.bytes.data(), raw.data(), 32);
    return key;
  }
};

// The prefix-hash chain, version 1. Tokens are cut into blocks of `block_tokens`; block i's key
// is SHA-256(key of block i-1 || u32le(token count) || each token as u32le), where the key
// before block 0 is SHA-256("cerulean.kv.prefix.v1" || 0x00 || seed). Only full blocks get
// keys: a partial tail is not cached. The same tokens, block size and seed give the same keys
// in every process and language (no per-process hash seeds); the seed separates models or
// tenants that must not share entries even with equal tokens.
class PrefixHasher {
 public:
  explicit PrefixHasher(std::string_view seed = "");
  // Keys of the full blocks of `tokens`.
  std::vector<KvKey> Keys(std::span<const uint32_t> tokens, size_t block_tokens) const;
  // The key of a block that follows `parent`.
  static KvKey Next(const KvKey& parent, std::span<const uint32_t> block);
  const KvKey& root() const { return root_; }

 private:
  KvKey root_;
};

// SHA-256(domain || 0x00 || name): the key of a named entry (a Redis key, say), where names
// rather than token prefixes identify values.
KvKey KeyOfName(std::string_view domain, std::string_view name);

}  // namespace cerulean::kv
