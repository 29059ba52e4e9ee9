// RESP (the Redis serialization protocol, version 2): parsing commands from a byte stream and
// writing replies. Commands come as arrays of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
// as redis-cli, redis-py and redis-benchmark send them, or as inline lines ("PING\r\n").
// Pure functions over buffers; no I/O. docs/protocols/resp.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cerulean::resp {

struct ParseLimits {
  size_t arguments_max = 1 << 20;
  size_t bulk_bytes_max = 64u << 20;
  size_t inline_bytes_max = 64u << 10;
};

enum class ParseState { kComplete, kIncomplete, kError };

struct ParseResult {
  ParseState state = ParseState::kIncomplete;
  size_t consumed = 0;  // bytes of the input the command took (when complete)
  std::string error;    // why the input is not RESP (when an error); the connection must close
  // When incomplete: the whole command's bytes, if already known (so a reader can make room).
  size_t needed = 0;
};

// Parses one command from the start of `input`. On success `arguments` holds views into
// `input` (the command name first).
ParseResult ParseCommand(std::string_view input, const ParseLimits& limits, std::vector<std::string_view>& arguments);

// Reply encoders: each appends to `out`.
void AppendSimple(std::string& out, std::string_view text);  // +OK
void AppendError(std::string& out, std::string_view text);   // -ERR ... (CR and LF become spaces)
void AppendInteger(std::string& out, int64_t value);         // :1
void AppendBulk(std::string& out, std::string_view bytes);   // $3\r\nabc\r\n
void AppendNull(std::string& out);                           // $-1
void AppendArrayHeader(std::string& out, size_t count);      // *2

}  // namespace cerulean::resp
