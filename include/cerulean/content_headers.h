// The HTTP content headers an object keeps and returns with its bytes, beside its content type:
// what S3's PutObject and Azure's Put Blob / Set Blob Properties store.
#pragma once

#include <string>

namespace cerulean {

struct ContentHeaders {
  std::string content_encoding;
  std::string content_language;
  std::string content_disposition;
  std::string cache_control;
  std::string content_md5;  // base64 of the MD5, as a writer declared it (Azure's x-ms-blob-content-md5)

  bool empty() const {
    return content_encoding.empty() && content_language.empty() && content_disposition.empty() &&
           cache_control.empty() && content_md5.empty();
  }
  friend bool operator==(const ContentHeaders&, const ContentHeaders&) = default;
};

}  // namespace cerulean
