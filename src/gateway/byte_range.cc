#include "gateway/byte_range.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace cerulean::gateway {
namespace {

std::optional<uint64_t> Number(std::string_view text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::stoull(std::string(text));
}

}  // namespace

Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseByteRange(std::string_view header, uint64_t size) {
  using Range = std::optional<std::pair<uint64_t, uint64_t>>;
  if (!header.starts_with("bytes=") || header.find(',') != std::string_view::npos) return Range();
  header.remove_prefix(6);
  const size_t dash = header.find('-');
  if (dash == std::string_view::npos) return Range();
  const std::string_view first_text = header.substr(0, dash), last_text = header.substr(dash + 1);
  if (first_text.empty()) {  // the last n bytes
    const std::optional<uint64_t> count = Number(last_text);
    if (!count) return Range();
    if (*count == 0 || size == 0) return Status::OutOfRange("the range selects no bytes");
    const uint64_t n = std::min(*count, size);
    return Range(std::pair(size - n, size - 1));
  }
  const std::optional<uint64_t> first = Number(first_text);
  if (!first) return Range();
  if (*first >= size) {
    return Status::OutOfRange(fmt::format("the range starts at {}, past the object's {} bytes", *first, size));
  }
  uint64_t last = size - 1;
  if (!last_text.empty()) {
    const std::optional<uint64_t> given = Number(last_text);
    if (!given || *given < *first) return Range();
    last = std::min(*given, size - 1);
  }
  return Range(std::pair(*first, last));
}

}  // namespace cerulean::gateway
