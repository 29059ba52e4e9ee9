#include "http/http_server.h"

#include <ctime>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "base/check.h"
#include "base/logging.h"
#include "runtime/deadline.h"

namespace cerulean::http {
namespace {

constexpr size_t kBufferBytes = 256 << 10;

// The Date header's text, formatted once a second per thread (each shard serves its own
// connections) instead of once a response.
std::string_view HttpDate() {
  thread_local std::time_t formatted_at = -1;
  thread_local char text[64];
  thread_local size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_at) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    length = std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &utc);
    formatted_at = now;
  }
  return std::string_view(text, length);
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

// One client connection: requests one after another, each to the handler.
class HttpConnection {
 public:
  HttpConnection(Env& env, Stream& stream, HttpHandler& handler, const HttpServerOptions& options, const bool& stopping)
      : env_(env), stream_(stream), handler_(handler), options_(options), stopping_(stopping),
        buffer_(kBufferBytes), parser_(options.limits.head_bytes_max) {}

  Task<void> Run() {
    while (!stopping_) {
      parser_.Reset();
      pending_.clear();
      pending_index_ = 0;
      continue_sent_ = false;
      body_done_ = false;
      // The head: an idle connection may wait for its next request; once a request has begun
      // it must arrive whole within the head timeout.
      std::optional<Deadline> deadline;
      deadline.emplace(env_, begin_ < end_ ? options_.limits.head_timeout : options_.limits.idle_timeout);
      bool begun = begin_ < end_;
      while (!parser_.head_complete() && parser_.error().ok()) {
        if (begin_ < end_) {
          begin_ += parser_.Feed(buffer_.data() + begin_, end_ - begin_);
          continue;
        }
        Result<bool> filled = co_await Fill(deadline->token());
        if (!filled.ok() || !*filled) {
          if (begun && filled.status().code() == StatusCode::kDeadlineExceeded) {
            (void)co_await SendError(408, "the request head did not arrive in time");
          }
          co_return;
        }
        if (!begun) {
          begun = true;
          deadline.emplace(env_, options_.limits.head_timeout);
        }
      }
      deadline.reset();
      if (!parser_.error().ok()) {
        const int status = parser_.error().code() == StatusCode::kOutOfRange ? 431 : 400;
        (void)co_await SendError(status, parser_.error().message());
        co_return;
      }
      const HttpRequest& request = parser_.request();
      body_done_ = !request.chunked && request.content_length.value_or(0) == 0;
      HttpExchange exchange(*this);
      exchange.head_only_ = request.method == "HEAD";
      exchange_ = &exchange;
      co_await handler_.Handle(exchange);
      exchange_ = nullptr;
      if (!broken_ && head_pending_) (void)co_await FlushHead();  // a response whose body never came
      if (broken_) co_return;
      if (!exchange.responded()) {
        LOG_WARN("{}: {} {} got no response from its handler", options_.name, request.method, request.target);
        exchange.CloseAfter();
        Status sent = co_await exchange.Respond(500, {}, "");
        if (!sent.ok()) co_return;
      }
      if (exchange.close_after() || !request.keep_alive) co_return;
      // A client that waits for "100 Continue" before its body never got it: the body will not
      // come, and the connection cannot be reused.
      if (request.expect_continue && !continue_sent_ && !body_done_) co_return;
      // What the handler left of the body is read and dropped, if it is small.
      if (!co_await Drain()) co_return;
    }
  }

  const HttpRequest& request() { return parser_.request(); }
  std::string peer() const { return stream_.peer(); }

  Task<Result<size_t>> ReadBody(std::span<std::byte> into) {
    if (!continue_sent_ && request().expect_continue && !body_done_ && exchange_ != nullptr && !exchange_->responded()) {
      continue_sent_ = true;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      iovec part{const_cast<char*>(kContinue.data()), kContinue.size()};
      Status sent = co_await stream_.Write(std::span(&part, 1), {});
      if (!sent.ok()) {
        broken_ = true;
        co_return sent;
      }
    }
    while (true) {
      if (pending_index_ < pending_.size()) {
        std::string_view& piece = pending_[pending_index_];
        const size_t n = std::min(piece.size(), into.size());
        std::memcpy(into.data(), piece.data(), n);
        piece.remove_prefix(n);
        if (piece.empty()) pending_index_++;
        co_return n;
      }
      if (body_done_ || parser_.message_complete()) {
        body_done_ = true;
        co_return size_t{0};
      }
      if (!parser_.error().ok()) co_return parser_.error();
      if (begin_ < end_) {
        begin_ += parser_.Feed(buffer_.data() + begin_, end_ - begin_);
        pending_ = parser_.TakeBody();
        pending_index_ = 0;
        continue;
      }
      Deadline deadline(env_, options_.limits.body_read_timeout);
      Result<bool> filled = co_await Fill(deadline.token());
      if (!filled.ok()) {
        broken_ = true;
        co_return filled.status();
      }
      if (!*filled) {
        broken_ = true;
        co_return Status::InvalidArgument("the client closed the connection before the body's end");
      }
    }
  }

  // Formats the response head and holds it: it goes out with the body's first bytes, in one
  // gather write (a small response is one send and one wake-up of the client, not two), or
  // with FlushHead once no body follows.
  void PrepareHead(int status, HttpHeaders& headers, uint64_t content_length, bool close) {
    head_.clear();
    fmt::format_to(std::back_inserter(head_), "HTTP/1.1 {} {}\r\n", status, ReasonPhrase(status));
    for (const auto& [name, value] : headers) fmt::format_to(std::back_inserter(head_), "{}: {}\r\n", name, value);
    fmt::format_to(std::back_inserter(head_), "Content-Length: {}\r\nDate: {}\r\nServer: Cerulean\r\n", content_length,
                   HttpDate());
    if (close) head_.append(std::string_view("Connection: close\r\n"));
    head_.append(std::string_view("\r\n"));
    head_pending_ = true;
  }

  Task<Status> FlushHead() { co_return co_await WriteBytes({}); }

  // The held head, if any, then `bytes`.
  Task<Status> WriteBytes(std::span<const std::byte> bytes) {
    iovec parts[2];
    size_t count = 0;
    if (head_pending_) {
      parts[count++] = iovec{head_.data(), head_.size()};
      head_pending_ = false;
    }
    if (!bytes.empty()) parts[count++] = iovec{const_cast<std::byte*>(bytes.data()), bytes.size()};
    if (count == 0) co_return Status::Ok();
    Status sent = co_await stream_.Write(std::span(parts, count), {});
    if (!sent.ok()) broken_ = true;
    co_return sent;
  }

  bool closing() const { return stopping_; }

 private:
  // Reads more into the buffer; false at the end of the stream.
  Task<Result<bool>> Fill(CancelToken cancel) {
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (end_ == buffer_.size()) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    iovec part{buffer_.data() + end_, buffer_.size() - end_};
    Result<size_t> read = co_await stream_.Read(std::span(&part, 1), cancel);
    if (!read.ok()) co_return read.status();
    end_ += *read;
    co_return *read > 0;
  }

  // Reads the rest of the current body, if small enough; false if the connection must close.
  Task<bool> Drain() {
    if (body_done_ || parser_.message_complete()) co_return true;
    if (request().content_length && *request().content_length > options_.limits.drain_bytes_max) co_return false;
    std::vector<std::byte> sink(64 << 10);
    uint64_t drained = 0;
    while (drained <= options_.limits.drain_bytes_max) {
      Result<size_t> n = co_await ReadBody(sink);
      if (!n.ok()) co_return false;
      if (*n == 0) co_return true;
      drained += *n;
    }
    co_return false;
  }

  Task<Status> SendError(int status, std::string_view message) {
    HttpHeaders headers = {{"Content-Type", "text/plain"}};
    const std::string body = std::string(message) + "\n";
    PrepareHead(status, headers, body.size(), /*close=*/true);
    co_return co_await WriteBytes(std::as_bytes(std::span(body)));
  }

  Env& env_;
  Stream& stream_;
  HttpHandler& handler_;
  const HttpServerOptions& options_;
  const bool& stopping_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  HttpRequestParser parser_;
  fmt::memory_buffer head_;
  bool head_pending_ = false;
  std::vector<std::string_view> pending_;
  size_t pending_index_ = 0;
  bool continue_sent_ = false;
  bool body_done_ = false;
  bool broken_ = false;
  HttpExchange* exchange_ = nullptr;
};

const HttpRequest& HttpExchange::request() const { return connection_.request(); }

std::string HttpExchange::peer() const { return connection_.peer(); }

Task<Result<size_t>> HttpExchange::ReadBody(std::span<std::byte> into) { return connection_.ReadBody(into); }

Task<Result<std::string>> HttpExchange::ReadBodyString(size_t limit) {
  std::string body;
  std::vector<std::byte> chunk(64 << 10);
  while (true) {
    CO_ASSIGN_OR_RETURN(size_t n, co_await connection_.ReadBody(chunk));
    if (n == 0) co_return body;
    if (body.size() + n > limit) co_return Status::OutOfRange(fmt::format("the request body is over {} bytes", limit));
    body.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
}

Task<Status> HttpExchange::Respond(int status, HttpHeaders headers, std::string_view body) {
  CHECK(!responded_);
  responded_ = true;
  const bool close = close_after_ || !request().keep_alive || connection_.closing();
  connection_.PrepareHead(status, headers, body.size(), close);
  if (head_only_) co_return co_await connection_.FlushHead();
  co_return co_await connection_.WriteBytes(std::as_bytes(std::span(body)));
}

Task<Status> HttpExchange::BeginResponse(int status, HttpHeaders headers, uint64_t content_length) {
  CHECK(!responded_);
  responded_ = true;
  const bool close = close_after_ || !request().keep_alive || connection_.closing();
  connection_.PrepareHead(status, headers, content_length, close);
  if (head_only_ || content_length == 0) co_return co_await connection_.FlushHead();
  co_return Status::Ok();  // the head goes out with the body's first bytes
}

Task<Status> HttpExchange::Write(std::span<const std::byte> bytes) {
  if (head_only_) co_return Status::Ok();
  co_return co_await connection_.WriteBytes(bytes);
}

HttpServer::HttpServer(Env& env, HttpHandler& handler, HttpServerOptions options)
    : env_(env), handler_(handler), options_(std::move(options)), connection_tasks_(env), serve_finished_(env) {}

HttpServer::~HttpServer() { CHECK(!serving_) << "Shutdown() the HTTP server first"; }

Status HttpServer::Listen() {
  ASSIGN_OR_RETURN(listener_, env_.Listen(options_.listen));
  LOG_INFO("{} listening address={}", options_.name, listener_->address().ToString());
  return Status::Ok();
}

NetAddress HttpServer::address() const { return listener_->address(); }

Task<void> HttpServer::Serve() {
  serving_ = true;
  while (!shutting_down_) {
    auto stream = co_await listener_->Accept({});
    if (!stream.ok()) {
      if (shutting_down_) break;
      LOG_WARN("{}: accept failed: {}", options_.name, stream.status().ToString());
      continue;
    }
    if (shutting_down_ || connections_.size() >= options_.connections_max) {
      (*stream)->Shutdown();
      continue;
    }
    const uint64_t id = next_connection_id_++;
    connections_[id] = stream->get();
    connection_tasks_.Spawn(RunConnection(id, std::move(*stream)));
  }
  co_await connection_tasks_.Join();
  serving_ = false;
  serve_finished_.Set();
}

Task<void> HttpServer::RunConnection(uint64_t id, std::unique_ptr<Stream> stream) {
  Stream* socket = stream.get();  // what Shutdown() closes; owned by the TLS stream with TLS
  if (options_.tls != nullptr) stream = options_.tls->Accept(std::move(stream));
  {
    HttpConnection connection(env_, *stream, handler_, options_, shutting_down_);
    co_await connection.Run();
  }
  socket->Shutdown();
  connections_.erase(id);
}

Task<void> HttpServer::Shutdown() {
  if (shutting_down_ || listener_ == nullptr) co_return;
  shutting_down_ = true;
  listener_->Close();
  for (auto& [id, stream] : connections_) stream->Shutdown();
  co_await connection_tasks_.Join();
  if (serving_) (void)co_await serve_finished_.Wait();
}

}  // namespace cerulean::http
