#include "base/crc32c.h"

#include <isa-l/crc.h>

#include <array>

namespace cerulean {

uint32_t Crc32c(const void* data, size_t length, uint32_t crc) {
  // ISA-L's crc32_iscsi neither pre- nor post-inverts; the standard CRC32C does both.
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
  // crc32_iscsi takes an int length; feed large buffers in chunks.
  constexpr size_t kChunkBytesMax = size_t{1} << 30;
  while (length > 0) {
    const size_t chunk = length < kChunkBytesMax ? length : kChunkBytesMax;
    state = crc32_iscsi(const_cast<unsigned char*>(bytes), static_cast<int>(chunk), state);
    bytes += chunk;
    length -= chunk;
  }
  return ~state;
}

uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc) {
  return Crc32c(data.data(), data.size(), crc);
}

uint32_t Crc32c(std::span<const iovec> data, uint32_t crc) {
  for (const iovec& v : data) crc = Crc32c(v.iov_base, v.iov_len, crc);
  return crc;
}

namespace {

// Polynomials over GF(2) modulo the CRC32C polynomial, in the CRC's reflected bit order: bit 31
// is the coefficient of x^0, bit 0 that of x^31.
constexpr uint32_t kReflectedPolynomial = 0x82F63B78;
constexpr uint32_t kOne = 1u << 31;  // x^0

constexpr uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = kOne; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kReflectedPolynomial : b >> 1;  // b *= x
  }
  return product;
}

// kPowers[k] = x^(2^k) mod P.
constexpr std::array<uint32_t, 64> MakePowers() {
  std::array<uint32_t, 64> powers{};
  powers[0] = kOne >> 1;  // x^1
  for (size_t k = 1; k < powers.size(); k++) powers[k] = MultiplyModP(powers[k - 1], powers[k - 1]);
  return powers;
}
constexpr std::array<uint32_t, 64> kPowers = MakePowers();

}  // namespace

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  // Appending n bytes multiplies a's remainder by x^(8n); the pre- and post-inversions of the
  // standard CRC cancel between the two CRCs, as for zlib's crc32_combine.
  uint32_t shift = kOne;
  uint64_t bits = length_b;
  for (size_t k = 3; bits != 0; bits >>= 1, k++) {  // x^(8n) = product of x^(2^k) over n's bits, k from 3
    if (bits & 1) shift = MultiplyModP(kPowers[k], shift);
  }
  return MultiplyModP(shift, crc_a) ^ crc_b;
}

}  // namespace cerulean
