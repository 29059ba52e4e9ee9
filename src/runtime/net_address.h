// NetAddress: a host and a TCP port, "127.0.0.1:9000". Value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace cerulean {

// Not an aggregate on purpose: g++ 12 miscompiles a braced aggregate temporary passed by value
// to a coroutine from inside another coroutine (it copies the std::string bitwise). A
// constructor makes the copy go through std::string's own. See docs/DEVELOPING.md.
struct NetAddress {
  NetAddress() = default;
  NetAddress(std::string host_name, uint16_t port_number)
      : host(std::move(host_name)), port(port_number) {}

  std::string host;
  uint16_t port = 0;

  // Parses "host:port" (IPv4 or a name; "[v6]:port" for IPv6). Port 0 asks for any free port.
  static Result<NetAddress> Parse(std::string_view text);
  std::string ToString() const;
  friend bool operator==(const NetAddress&, const NetAddress&) = default;
};

}  // namespace cerulean
