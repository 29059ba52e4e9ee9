// The Range header of GETs ("bytes=a-b", "bytes=a-", "bytes=-n"), as S3 and Azure read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace cerulean::gateway {

// The inclusive byte range [first, last] that `header` selects of an object of `size` bytes;
// nothing for a header this ignores (the whole object is served, as S3 does for multiple
// ranges or a malformed header); OutOfRange when it selects no byte (416).
Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseByteRange(std::string_view header, uint64_t size);

}  // namespace cerulean::gateway
