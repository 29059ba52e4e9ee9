#include "runtime/net_address.h"

#include <charconv>

#include <fmt/format.h>

namespace cerulean {

Result<NetAddress> NetAddress::Parse(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument(fmt::format("address '{}' is not host:port", text));
  }
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument(fmt::format("port '{}' in '{}' is not 0-65535", port_text, text));
  }
  return NetAddress{std::string(host), static_cast<uint16_t>(port)};
}

std::string NetAddress::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

}  // namespace cerulean
