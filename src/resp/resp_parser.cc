#include "resp/resp_parser.h"

#include <charconv>

#include <fmt/format.h>

namespace cerulean::resp {
namespace {

// The line at `at` up to CRLF: its end (the CR), or npos if no CRLF yet.
size_t LineEnd(std::string_view input, size_t at) {
  const size_t cr = input.find("\r\n", at);
  return cr;
}

bool ParseCount(std::string_view text, int64_t& value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

ParseResult Error(std::string message) {
  ParseResult result;
  result.state = ParseState::kError;
  result.error = std::move(message);
  return result;
}

// An inline command: words separated by spaces, up to CRLF (or a lone LF, as telnet sends).
ParseResult ParseInline(std::string_view input, const ParseLimits& limits, std::vector<std::string_view>& arguments) {
  const size_t lf = input.find('\n');
  if (lf == std::string_view::npos) {
    if (input.size() > limits.inline_bytes_max) return Error("too big inline request");
    return {};
  }
  std::string_view line = input.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  arguments.clear();
  for (size_t at = 0; at < line.size();) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) at++;
    if (at >= line.size()) break;
    if (line[at] == '"' || line[at] == '\'') return Error("quoted inline arguments are not supported; send an array");
    size_t end = at;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') end++;
    arguments.push_back(line.substr(at, end - at));
    at = end;
  }
  return {.state = ParseState::kComplete, .consumed = lf + 1};
}

}  // namespace

ParseResult ParseCommand(std::string_view input, const ParseLimits& limits, std::vector<std::string_view>& arguments) {
  if (input.empty()) return {};
  if (input[0] != '*') return ParseInline(input, limits, arguments);
  size_t end = LineEnd(input, 1);
  if (end == std::string_view::npos) {
    if (input.size() > 32) return Error("invalid multibulk length");
    return {};
  }
  int64_t count = 0;
  if (!ParseCount(input.substr(1, end - 1), count) || count > static_cast<int64_t>(limits.arguments_max)) {
    return Error("invalid multibulk length");
  }
  arguments.clear();
  size_t at = end + 2;
  for (int64_t i = 0; i < count; i++) {
    if (at >= input.size()) return {};
    if (input[at] != '$') return Error(fmt::format("expected '$', got '{}'", input[at]));
    end = LineEnd(input, at + 1);
    if (end == std::string_view::npos) {
      if (input.size() - at > 32) return Error("invalid bulk length");
      return {};
    }
    int64_t length = 0;
    if (!ParseCount(input.substr(at + 1, end - at - 1), length) || length < 0 ||
        static_cast<uint64_t>(length) > limits.bulk_bytes_max) {
      return Error("invalid bulk length");
    }
    const size_t data = end + 2;
    const size_t next = data + static_cast<size_t>(length) + 2;
    if (next > input.size()) return {.state = ParseState::kIncomplete, .needed = next + 32 * static_cast<size_t>(count - i - 1)};
    if (input[next - 2] != '\r' || input[next - 1] != '\n') return Error("bulk string not followed by CRLF");
    arguments.push_back(input.substr(data, static_cast<size_t>(length)));
    at = next;
  }
  if (count <= 0) return {.state = ParseState::kComplete, .consumed = at};  // "*0" and "*-1": nothing to run
  return {.state = ParseState::kComplete, .consumed = at};
}

void AppendSimple(std::string& out, std::string_view text) {
  out += '+';
  out += text;
  out += "\r\n";
}

void AppendError(std::string& out, std::string_view text) {
  out += '-';
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

void AppendInteger(std::string& out, int64_t value) { fmt::format_to(std::back_inserter(out), ":{}\r\n", value); }

void AppendBulk(std::string& out, std::string_view bytes) {
  fmt::format_to(std::back_inserter(out), "${}\r\n", bytes.size());
  out += bytes;
  out += "\r\n";
}

void AppendNull(std::string& out) { out += "$-1\r\n"; }

void AppendArrayHeader(std::string& out, size_t count) { fmt::format_to(std::back_inserter(out), "*{}\r\n", count); }

}  // namespace cerulean::resp
