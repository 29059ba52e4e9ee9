#include "meta/names.h"

#include <fmt/format.h>

namespace cerulean::meta {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// The length of the valid UTF-8 sequence at the start of `text`, or 0.
size_t Utf8SequenceBytes(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code_point = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;  // a continuation byte, or 0xF8..0xFF
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; i++) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  static constexpr uint32_t kSmallestForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallestForLength[length]) return 0;          // overlong
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;     // a surrogate
  if (code_point > 0x10FFFF) return 0;
  return length;
}

}  // namespace

Status ValidateContainerName(std::string_view name) {
  const auto invalid = [&](std::string_view rule) {
    return Status::InvalidArgument(fmt::format("container name '{}': {}", name, rule));
  };
  if (name.size() < kContainerNameBytesMin || name.size() > kContainerNameBytesMax) {
    return invalid(fmt::format("must be {} to {} characters long", kContainerNameBytesMin, kContainerNameBytesMax));
  }
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '-') return invalid("may hold only lowercase letters, digits and hyphens");
  }
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) {
    return invalid("must start and end with a letter or digit");
  }
  if (name.find("--") != std::string_view::npos) return invalid("may not hold two hyphens in a row");
  return Status::Ok();
}

Status ValidateObjectName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("object name is empty");
  if (name.size() > kObjectNameBytesMax) {
    return Status::InvalidArgument(
        fmt::format("object name of {} bytes: at most {} bytes of UTF-8", name.size(), kObjectNameBytesMax));
  }
  for (size_t i = 0; i < name.size();) {
    if (name[i] == '\0') return Status::InvalidArgument(fmt::format("object name holds NUL at byte {}", i));
    const size_t length = Utf8SequenceBytes(name.substr(i));
    if (length == 0) return Status::InvalidArgument(fmt::format("object name is not valid UTF-8 at byte {}", i));
    i += length;
  }
  return Status::Ok();
}

}  // namespace cerulean::meta
