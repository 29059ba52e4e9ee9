// Explicit little-endian loads and stores for wire and disk formats. Never memcpy a struct onto
// the wire: every field is placed at a documented offset by these helpers.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace cerulean {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

template <typename T>
inline T ByteSwapIfBig(T value) {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) == 2) return __builtin_bswap16(value);
  if constexpr (std::endian::native == std::endian::big && sizeof(T) == 4) return __builtin_bswap32(value);
  if constexpr (std::endian::native == std::endian::big && sizeof(T) == 8) return __builtin_bswap64(value);
  return value;
}

template <typename T>
inline void StoreLittleEndian(std::byte* out, T value) {
  static_assert(std::is_unsigned_v<T>);
  value = ByteSwapIfBig(value);
  std::memcpy(out, &value, sizeof(T));
}

template <typename T>
inline T LoadLittleEndian(const std::byte* in) {
  static_assert(std::is_unsigned_v<T>);
  T value;
  std::memcpy(&value, in, sizeof(T));
  return ByteSwapIfBig(value);
}

}  // namespace cerulean
