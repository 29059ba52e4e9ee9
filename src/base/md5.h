// MD5, for S3-style ETags only (not for integrity: CRC32C does that, nor for security).
// Incremental; one instance per thread.
#pragma once

#include <memory>
#include <span>
#include <string>

namespace cerulean {

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;

  void Update(std::span<const std::byte> data);
  void Update(std::string_view data) { Update(std::as_bytes(std::span(data.data(), data.size()))); }
  // The 16-byte digest; the object cannot be updated afterwards.
  std::string Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// 32 lowercase hex digits.
std::string HexOf(std::string_view bytes);
// The bytes of a hex string; empty if it is not one.
std::string BytesOfHex(std::string_view hex);

}  // namespace cerulean
