// io_uring TCP: UringStream (a connected socket) and UringListener. Loop thread only.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include "runtime/env.h"
#include "runtime/uring/event_loop.h"

namespace cerulean {

// Resolves a numeric IPv4/IPv6 host (or "localhost") and port into a sockaddr.
Result<sockaddr_storage> ToSockaddr(const NetAddress& address, socklen_t* length);

class UringStream final : public Stream {
 public:
  UringStream(EventLoop& loop, int fd, std::string peer);
  ~UringStream() override;

  Task<Result<size_t>> Read(std::span<const iovec> buffers, CancelToken cancel) override;
  Task<Status> Write(std::span<iovec> buffers, CancelToken cancel) override;
  void Shutdown() override;
  std::string peer() const override { return peer_; }

 private:
  EventLoop& loop_;
  int fd_;
  std::string peer_;
  bool shut_down_ = false;
};

class UringListener final : public Listener {
 public:
  UringListener(EventLoop& loop, int fd, NetAddress address);
  ~UringListener() override;

  Task<Result<std::unique_ptr<Stream>>> Accept(CancelToken cancel) override;
  NetAddress address() const override { return address_; }
  void Close() override;

 private:
  EventLoop& loop_;
  int fd_;
  NetAddress address_;
  CancelSource closed_;
};

// Options applied to every TCP connection: TCP_NODELAY (request/response traffic).
void ConfigureConnectedSocket(int fd);

}  // namespace cerulean
