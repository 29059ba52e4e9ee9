#include "client/etag.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "base/check.h"

namespace cerulean::client {
namespace {

std::string Quoted(const unsigned char* digest, unsigned int length) {
  std::string text = "\"";
  for (unsigned int i = 0; i < length; i++) text += fmt::format("{:02x}", digest[i]);
  return text;
}

}  // namespace

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

std::string Md5::FinishEtag() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CHECK(EVP_DigestFinal_ex(state_->context, digest, &length) == 1);
  return Quoted(digest, length) + "\"";
}

std::string Md5Etag(std::span<const std::byte> data) {
  Md5 md5;
  md5.Update(data);
  return md5.FinishEtag();
}

std::string CompositeEtag(const std::vector<PieceResult>& pieces) {
  Md5 md5;
  for (const PieceResult& piece : pieces) {
    const uint32_t crc = piece.piece.crc32c;
    const std::byte bytes[4] = {std::byte(crc >> 24), std::byte(crc >> 16), std::byte(crc >> 8), std::byte(crc)};
    md5.Update(bytes);
  }
  std::string etag = md5.FinishEtag();
  etag.pop_back();  // the closing quote
  return fmt::format("{}-{}\"", etag, pieces.size());
}

}  // namespace cerulean::client
