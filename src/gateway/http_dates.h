// The two time formats of the REST APIs: HTTP dates (RFC 1123, headers and Azure XML) and
// ISO 8601 (S3 XML).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cerulean::gateway {

// "Wed, 12 Oct 2009 17:50:00 GMT"
std::string HttpTime(int64_t unix_ns);
// "2009-10-12T17:50:30.000Z"
std::string IsoTime(int64_t unix_ns);
// Seconds since the epoch of an RFC 1123 date; InvalidArgument for anything else.
Result<int64_t> ParseHttpTime(std::string_view text);
// Seconds since the epoch of "yyyy-mm-ddThh:mm:ssZ" (or with fractional seconds, or a date
// alone), as SAS tokens write their times; InvalidArgument for anything else.
Result<int64_t> ParseIsoTime(std::string_view text);

}  // namespace cerulean::gateway
