// ETags as S3 clients expect them: the MD5 of the content for an object put in one piece, and
// for a multi-piece object a composite in the style of a multipart upload (a hash of the pieces'
// CRC32Cs, a dash and the piece count), which costs nothing beyond the CRCs already computed.
// Pure; thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/md5.h"
#include "client/client_core.h"

namespace cerulean::client {

// "\"<md5 hex>\"".
std::string QuotedMd5(Md5& md5);
std::string Md5Etag(std::span<const std::byte> data);
std::string CompositeEtag(const std::vector<PieceResult>& pieces);

}  // namespace cerulean::client
