#include "http/http_request_parser.h"

#include <http_parser.h>

#include <algorithm>

#include <fmt/format.h>

namespace cerulean::http {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

// http_parser's callbacks, with the parser object in `data`.
struct HttpRequestParser::Callbacks {
  static HttpRequestParser& Self(::http_parser* p) { return *static_cast<HttpRequestParser*>(p->data); }

  static int CountHead(HttpRequestParser& self, size_t length) {
    self.head_bytes_ += length;
    return self.head_bytes_ > self.head_bytes_max_ ? 1 : 0;
  }
  static void FinishHeader(HttpRequestParser& self) {
    if (!self.field_.empty()) {
      self.request_.headers.emplace_back(Lower(self.field_), std::string(Trim(self.value_)));
      self.request_.header_names_as_sent.push_back(self.field_);
    }
    self.field_.clear();
    self.value_.clear();
    self.in_value_ = false;
  }
  static int OnUrl(::http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    self.request_.target.append(at, length);
    return CountHead(self, length);
  }
  static int OnHeaderField(::http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    if (self.in_value_) FinishHeader(self);
    self.field_.append(at, length);
    return CountHead(self, length);
  }
  static int OnHeaderValue(::http_parser* p, const char* at, size_t length) {
    HttpRequestParser& self = Self(p);
    self.in_value_ = true;
    self.value_.append(at, length);
    return CountHead(self, length);
  }
  static int OnHeadersComplete(::http_parser* p) {
    HttpRequestParser& self = Self(p);
    FinishHeader(self);
    HttpRequest& request = self.request_;
    request.method = http_method_str(static_cast<http_method>(p->method));
    request.version_minor = p->http_minor;
    request.keep_alive = http_should_keep_alive(p) != 0;
    request.chunked = (p->flags & F_CHUNKED) != 0;
    if (!request.chunked && (p->flags & F_CONTENTLENGTH) != 0) request.content_length = p->content_length;
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    request.query = question == std::string::npos ? "" : request.target.substr(question + 1);
    if (const std::string* expect = request.Header("expect")) request.expect_continue = Lower(*expect) == "100-continue";
    self.head_complete_ = true;
    http_parser_pause(p, 1);
    return 0;
  }
  static int OnBody(::http_parser* p, const char* at, size_t length) {
    Self(p).body_.emplace_back(at, length);
    return 0;
  }
  static int OnMessageComplete(::http_parser* p) {
    Self(p).message_complete_ = true;
    http_parser_pause(p, 1);
    return 0;
  }

  static const http_parser_settings& Settings() {
    static const http_parser_settings settings = [] {
      http_parser_settings s;
      http_parser_settings_init(&s);
      s.on_url = OnUrl;
      s.on_header_field = OnHeaderField;
      s.on_header_value = OnHeaderValue;
      s.on_headers_complete = OnHeadersComplete;
      s.on_body = OnBody;
      s.on_message_complete = OnMessageComplete;
      return s;
    }();
    return settings;
  }
};

HttpRequestParser::HttpRequestParser(size_t head_bytes_max)
    : parser_(std::make_unique<::http_parser>()), head_bytes_max_(head_bytes_max) {
  Reset();
}

HttpRequestParser::~HttpRequestParser() = default;

void HttpRequestParser::Reset() {
  http_parser_init(parser_.get(), HTTP_REQUEST);
  parser_->data = this;
  head_bytes_ = 0;
  request_ = HttpRequest();
  field_.clear();
  value_.clear();
  in_value_ = false;
  head_complete_ = false;
  message_complete_ = false;
  error_ = Status::Ok();
  body_.clear();
}

size_t HttpRequestParser::Feed(const char* data, size_t size) {
  if (!error_.ok() || message_complete_ || size == 0) return 0;
  if (HTTP_PARSER_ERRNO(parser_.get()) == HPE_PAUSED) http_parser_pause(parser_.get(), 0);
  const size_t consumed = http_parser_execute(parser_.get(), &Callbacks::Settings(), data, size);
  const http_errno code = HTTP_PARSER_ERRNO(parser_.get());
  if (code == HPE_OK || code == HPE_PAUSED) {
    // A head that has not ended within the limit (http_parser counts only what it has seen).
    if (!head_complete_ && head_bytes_ + consumed > head_bytes_max_ * 2) {
      error_ = Status::OutOfRange(fmt::format("the request head is over {} bytes", head_bytes_max_));
    }
    return consumed;
  }
  if (code == HPE_CB_url || code == HPE_CB_header_field || code == HPE_CB_header_value ||
      code == HPE_HEADER_OVERFLOW) {
    error_ = Status::OutOfRange(fmt::format("the request head is over {} bytes", head_bytes_max_));
  } else {
    error_ = Status::InvalidArgument(fmt::format("malformed HTTP request: {}", http_errno_description(code)));
  }
  return consumed;
}

std::vector<std::string_view> HttpRequestParser::TakeBody() { return std::exchange(body_, {}); }

}  // namespace cerulean::http
