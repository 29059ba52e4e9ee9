// Server-side copies (S3 CopyObject and UploadPartCopy, Azure Copy Blob): a range of one version
// of an object read and appended as the pieces of a new upload, a piece at a time, every byte
// checked against its CRC on the way as any read is. The copy's MD5 comes with it.
#pragma once

#include <cstdint>
#include <string>

#include "client/client_core.h"
#include "gateway/body_upload.h"

namespace cerulean::gateway {

Task<ReceivedBody> CopyIntoPieces(client::ClientCore& objects, const client::Layout& source, uint64_t offset,
                                  uint64_t length, const std::string& container, const std::string& name,
                                  uint64_t piece_bytes);

}  // namespace cerulean::gateway
