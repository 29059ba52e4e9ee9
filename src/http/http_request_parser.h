// HttpRequestParser: HTTP/1.1 requests off a byte stream, parsed by Node's http_parser (Debian's
// libhttp-parser-dev), which also decodes chunked bodies. It stops after each request's head,
// so the server can look at the headers (and answer "Expect: 100-continue") before the body,
// and after each message, so pipelined requests are taken one at a time. Body bytes are views
// into what was fed: the caller consumes them before it feeds more. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

struct http_parser;

namespace cerulean::http {

struct HttpRequest {
  std::string method;  // "GET", "PUT"...
  std::string target;  // as sent: path and query, still percent-encoded
  std::string path;    // the target's path (percent-encoded)
  std::string query;   // after '?', without it (percent-encoded)
  // Names lowercased, in order of arrival.
  std::vector<std::pair<std::string, std::string>> headers;
  // The names of `headers`, index for index, in the case the client wrote them (Azure keeps the
  // case of metadata names).
  std::vector<std::string> header_names_as_sent;
  int version_minor = 1;
  bool keep_alive = true;
  bool chunked = false;
  std::optional<uint64_t> content_length;
  bool expect_continue = false;

  // The first header of that (lowercase) name.
  const std::string* Header(std::string_view name) const;
};

class HttpRequestParser {
 public:
  explicit HttpRequestParser(size_t head_bytes_max = 64 << 10);
  ~HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Starts on the next request of the connection.
  void Reset();
  // Parses `data`; returns how many bytes it took. It stops early when the head is complete and
  // when the message ends (feed the rest again), and on an error.
  size_t Feed(const char* data, size_t size);

  bool head_complete() const { return head_complete_; }
  bool message_complete() const { return message_complete_; }
  // InvalidArgument for a malformed request, OutOfRange for a head over the limit.
  const Status& error() const { return error_; }
  HttpRequest& request() { return request_; }
  // Body bytes parsed since the last call, in order; views into what was fed.
  std::vector<std::string_view> TakeBody();

 private:
  struct Callbacks;
  std::unique_ptr<http_parser> parser_;
  size_t head_bytes_max_;
  size_t head_bytes_ = 0;
  HttpRequest request_;
  std::string field_, value_;
  bool in_value_ = false;
  bool head_complete_ = false;
  bool message_complete_ = false;
  Status error_;
  std::vector<std::string_view> body_;
};

}  // namespace cerulean::http
