#include "gateway/http_dates.h"

#include <ctime>

#include <fmt/format.h>

namespace cerulean::gateway {

std::string HttpTime(int64_t unix_ns) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  const size_t length = std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, length);
}

std::string IsoTime(int64_t unix_ns) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", text, static_cast<int>(unix_ns / 1'000'000 % 1000));
}

Result<int64_t> ParseHttpTime(std::string_view text) {
  const std::string copy(text);
  std::tm utc{};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  if (end == nullptr || *end != '\0') return Status::InvalidArgument(fmt::format("'{}' is not an RFC 1123 date", text));
  return static_cast<int64_t>(timegm(&utc));
}

Result<int64_t> ParseIsoTime(std::string_view text) {
  std::string copy(text);
  // Fractional seconds ("…:56.1234567Z") count for nothing here.
  if (const size_t dot = copy.find('.'); dot != std::string::npos && copy.ends_with('Z')) {
    copy = copy.substr(0, dot) + "Z";
  }
  std::tm utc{};
  const char* end = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  if (end == nullptr || *end != '\0') {
    utc = {};
    end = strptime(copy.c_str(), "%Y-%m-%d", &utc);
  }
  if (end == nullptr || *end != '\0') return Status::InvalidArgument(fmt::format("'{}' is not an ISO 8601 UTC time", text));
  return static_cast<int64_t>(timegm(&utc));
}

}  // namespace cerulean::gateway
