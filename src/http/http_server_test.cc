#include "http/http_server.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/deadline.h"
#include "runtime/test_loop.h"

namespace cerulean::http {
namespace {

using namespace std::chrono_literals;
using testing::RunOnLoop;

// /echo answers with the body it read; /refuse answers 403 without reading the body; /stream
// writes its response in three writes; anything else is 404.
class TestHandler : public HttpHandler {
 public:
  Task<void> Handle(HttpExchange& exchange) override {
    const HttpRequest& request = exchange.request();
    if (request.path == "/echo") {
      auto body = co_await exchange.ReadBodyString(1 << 20);
      if (!body.ok()) {
        (void)co_await exchange.Respond(400, {}, body.status().message());
        co_return;
      }
      HttpHeaders headers = {{"X-Method", request.method}, {"X-Query", request.query}};  // named: g++ 12
      (void)co_await exchange.Respond(200, std::move(headers), *body);
    } else if (request.path == "/refuse") {
      (void)co_await exchange.Respond(403, {}, "no");
    } else if (request.path == "/stream") {
      if ((co_await exchange.BeginResponse(200, {}, 9)).ok()) {
        static constexpr std::string_view kParts[] = {"abc", "def", "ghi"};
        for (std::string_view part : kParts) (void)co_await exchange.Write(std::as_bytes(std::span(part)));
      }
    } else {
      (void)co_await exchange.Respond(404, {}, "");
    }
  }
};

struct Server {
  Server(Env& env, HttpLimits limits = {}) : server(env, handler, {.listen = {"127.0.0.1", 0}, .limits = limits}), group(env) {
    CHECK(server.Listen().ok());
    group.Spawn(server.Serve());
  }
  Task<void> Stop() {
    co_await server.Shutdown();
    co_await group.Join();
  }
  TestHandler handler;
  HttpServer server;
  TaskGroup group;
};

// A raw client connection.
class Client {
 public:
  static Task<Client> Connect(Env& env, NetAddress address) {
    auto stream = co_await env.Connect(address, {});
    CHECK(stream.ok()) << stream.status();
    co_return Client(env, std::move(*stream));
  }
  Task<Status> Send(std::string bytes) {
    iovec part{bytes.data(), bytes.size()};
    co_return co_await stream_->Write(std::span(&part, 1), {});
  }
  // One response: status line and headers, then Content-Length body bytes (none for HEAD).
  // "" if the server closed the connection first.
  Task<std::string> Response(bool head = false) {
    while (true) {
      const size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        const size_t at = buffer_.find("Content-Length: ");
        if (at != std::string::npos && at < end && !head) length = std::stoull(buffer_.substr(at + 16));
        if (buffer_.size() >= end + 4 + length) {
          std::string response = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, end + 4 + length);
          co_return response;
        }
      }
      if (!co_await Fill()) co_return "";
    }
  }
  // Whether the server closed the connection (nothing more arrives).
  Task<bool> Closed() {
    if (!buffer_.empty()) co_return false;
    co_return !co_await Fill();
  }

 private:
  Client(Env& env, std::unique_ptr<Stream> stream) : env_(&env), stream_(std::move(stream)) {}
  Task<bool> Fill() {
    char chunk[4096];
    iovec part{chunk, sizeof(chunk)};
    Deadline deadline(*env_, 5s);
    auto n = co_await stream_->Read(std::span(&part, 1), deadline.token());
    if (!n.ok() || *n == 0) co_return false;
    buffer_.append(chunk, *n);
    co_return true;
  }
  Env* env_;
  std::unique_ptr<Stream> stream_;
  std::string buffer_;
};

bool StartsWith(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }
bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(HttpServerTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  RunOnLoop([](Env& env) -> Task<void> {
    Server server(env);
    Client client = co_await Client::Connect(env, server.server.address());
    // Two requests in one write, then a third after the answers.
    EXPECT_TRUE((co_await client.Send("PUT /echo?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                                      "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")).ok());
    const std::string first = co_await client.Response();
    EXPECT_TRUE(StartsWith(first, "HTTP/1.1 200 OK\r\n")) << first;
    EXPECT_NE(first.find("X-Method: PUT"), std::string::npos);
    EXPECT_NE(first.find("X-Query: a=1"), std::string::npos);
    EXPECT_TRUE(EndsWith(first, "\r\n\r\nhello")) << first;
    const std::string second = co_await client.Response();
    EXPECT_TRUE(EndsWith(second, "abcdefghi")) << second;
    EXPECT_TRUE((co_await client.Send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")).ok());
    const std::string head = co_await client.Response(/*head=*/true);
    EXPECT_NE(head.find("Content-Length: 9"), std::string::npos) << head;
    EXPECT_TRUE((co_await client.Send("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).ok());
    const std::string last = co_await client.Response();
    EXPECT_TRUE(StartsWith(last, "HTTP/1.1 404")) << last;
    EXPECT_NE(last.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(co_await client.Closed());
    co_await server.Stop();
  });
}

TEST(HttpServerTest, ChunkedBodiesAreDecoded) {
  RunOnLoop([](Env& env) -> Task<void> {
    Server server(env);
    Client client = co_await Client::Connect(env, server.server.address());
    EXPECT_TRUE((co_await client.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n")).ok());
    const std::string response = co_await client.Response();
    EXPECT_TRUE(EndsWith(response, "\r\n\r\nWikipedia in \r\n\r\nchunks.")) << response;
    co_await server.Stop();
  });
}

TEST(HttpServerTest, ExpectContinueGetsAnInterimResponseOnlyWhenTheBodyIsWanted) {
  RunOnLoop([](Env& env) -> Task<void> {
    Server server(env);
    Client client = co_await Client::Connect(env, server.server.address());
    EXPECT_TRUE((co_await client.Send("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")).ok());
    const std::string interim = co_await client.Response();
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    EXPECT_TRUE((co_await client.Send("abc")).ok());
    EXPECT_TRUE(EndsWith(co_await client.Response(), "\r\n\r\nabc"));
    // Refused before the body: no 100, and the connection closes (the body will not come).
    Client refused = co_await Client::Connect(env, server.server.address());
    EXPECT_TRUE((co_await refused.Send("PUT /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")).ok());
    const std::string response = co_await refused.Response();
    EXPECT_TRUE(StartsWith(response, "HTTP/1.1 403")) << response;
    EXPECT_TRUE(co_await refused.Closed());
    co_await server.Stop();
  });
}

TEST(HttpServerTest, BadRequestsGetAnErrorAndTheConnectionCloses) {
  RunOnLoop([](Env& env) -> Task<void> {
    Server server(env, {.head_bytes_max = 4096, .head_timeout = 300ms});
    Client malformed = co_await Client::Connect(env, server.server.address());
    EXPECT_TRUE((co_await malformed.Send("GET / HTTP/1.1\r\nBad Header\r\n\r\n")).ok());
    const std::string bad = co_await malformed.Response();
    EXPECT_TRUE(StartsWith(bad, "HTTP/1.1 400")) << bad;
    EXPECT_TRUE(co_await malformed.Closed());

    Client huge = co_await Client::Connect(env, server.server.address());
    EXPECT_TRUE((co_await huge.Send("GET / HTTP/1.1\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n")).ok());
    const std::string big = co_await huge.Response();
    EXPECT_TRUE(StartsWith(big, "HTTP/1.1 431")) << big;
    EXPECT_TRUE(co_await huge.Closed());

    // A head that trickles in past the head timeout.
    Client slow = co_await Client::Connect(env, server.server.address());
    EXPECT_TRUE((co_await slow.Send("GET / HTTP/1.1\r\nHost:")).ok());
    const std::string late = co_await slow.Response();
    EXPECT_TRUE(StartsWith(late, "HTTP/1.1 408")) << late;
    EXPECT_TRUE(co_await slow.Closed());

    co_await server.Stop();
  });
}

}  // namespace
}  // namespace cerulean::http
