#include "client/etag.h"

#include <fmt/format.h>

namespace cerulean::client {

std::string QuotedMd5(Md5& md5) { return "\"" + HexOf(md5.Finish()) + "\""; }

std::string Md5Etag(std::span<const std::byte> data) {
  Md5 md5;
  md5.Update(data);
  return QuotedMd5(md5);
}

std::string CompositeEtag(const std::vector<PieceResult>& pieces) {
  Md5 md5;
  for (const PieceResult& piece : pieces) {
    const uint32_t crc = piece.piece.crc32c;
    const std::byte bytes[4] = {std::byte(crc >> 24), std::byte(crc >> 16), std::byte(crc >> 8), std::byte(crc)};
    md5.Update(bytes);
  }
  return fmt::format("\"{}-{}\"", HexOf(md5.Finish()), pieces.size());
}

}  // namespace cerulean::client
