// HttpServer: HTTP/1.1 on the runtime, for the S3 and Azure Blob gateways. Keep-alive and
// pipelined requests, chunked request bodies, "Expect: 100-continue" (the interim response goes
// out when the handler first reads the body, so a refused upload is refused before it is
// sent), limits on the head's size and on the time a client may take to send it, and a
// timeout on each body read. Bodies stream: a handler reads them piece by piece and writes its
// response as a whole or as a stream of known length. docs/protocols/http.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "http/http_request_parser.h"
#include "http/tls_stream.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/task_group.h"

namespace cerulean::http {

struct HttpLimits {
  size_t head_bytes_max = 64 << 10;
  Duration head_timeout = std::chrono::seconds(30);   // from a request's first byte to its head's end
  Duration idle_timeout = std::chrono::seconds(120);  // a keep-alive connection with no request
  Duration body_read_timeout = std::chrono::seconds(60);  // each read of a body
  // Unread body bytes the server reads and drops after a response to keep the connection;
  // more, and it closes it instead.
  uint64_t drain_bytes_max = 1 << 20;
};

// Response headers, in order.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

std::string_view ReasonPhrase(int status);

class HttpConnection;

// One request and its response.
class HttpExchange {
 public:
  explicit HttpExchange(HttpConnection& connection) : connection_(connection) {}
  const HttpRequest& request() const;
  // The client's address, "host:port".
  std::string peer() const;
  // Body bytes into `into`: how many, 0 at its end. DeadlineExceeded if the client stalls.
  Task<Result<size_t>> ReadBody(std::span<std::byte> into);
  // The whole body; OutOfRange past `limit` bytes.
  Task<Result<std::string>> ReadBodyString(size_t limit);
  // A response with this body (Content-Length is set; for HEAD, no body is sent).
  Task<Status> Respond(int status, HttpHeaders headers, std::string_view body = {});
  // A response whose `content_length` body bytes follow through Write.
  Task<Status> BeginResponse(int status, HttpHeaders headers, uint64_t content_length);
  Task<Status> Write(std::span<const std::byte> bytes);
  bool responded() const { return responded_; }
  // The connection must close after this response (an error left the stream unusable).
  void CloseAfter() { close_after_ = true; }
  bool close_after() const { return close_after_; }

 private:
  friend class HttpConnection;
  HttpConnection& connection_;
  bool responded_ = false;
  bool close_after_ = false;
  bool head_only_ = false;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Must respond (the server answers 500 if it did not).
  virtual Task<void> Handle(HttpExchange& exchange) = 0;
};

struct HttpServerOptions {
  NetAddress listen{"127.0.0.1", 0};
  HttpLimits limits;
  size_t connections_max = 10'000;
  std::string name = "http";  // for logs, and the Server header
  std::shared_ptr<const TlsContext> tls;  // set: connections speak HTTPS
};

class HttpServer {
 public:
  // `handler` must outlive the server.
  HttpServer(Env& env, HttpHandler& handler, HttpServerOptions options);
  ~HttpServer();
  Status Listen();
  NetAddress address() const;
  Task<void> Serve();
  // Stops accepting, closes every connection and waits for them.
  Task<void> Shutdown();

 private:
  Task<void> RunConnection(uint64_t id, std::unique_ptr<Stream> stream);

  Env& env_;
  HttpHandler& handler_;
  HttpServerOptions options_;
  std::unique_ptr<Listener> listener_;
  std::map<uint64_t, Stream*> connections_;
  uint64_t next_connection_id_ = 1;
  bool shutting_down_ = false;
  TaskGroup connection_tasks_;
  Event serve_finished_;
  bool serving_ = false;
};

}  // namespace cerulean::http
