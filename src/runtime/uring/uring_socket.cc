#include "runtime/uring/uring_socket.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cstring>

#include "runtime/iovec.h"
#include "runtime/uring/uring_op.h"

namespace cerulean {
namespace {

std::string SockaddrToString(const sockaddr_storage& storage) {
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
  }
  return NetAddress{host, port}.ToString();
}

}  // namespace

Result<sockaddr_storage> ToSockaddr(const NetAddress& address, socklen_t* length) {
  sockaddr_storage storage{};
  const std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  auto* in = reinterpret_cast<sockaddr_in*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(address.port);
    *length = sizeof(sockaddr_in);
    return storage;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    *length = sizeof(sockaddr_in6);
    return storage;
  }
  return Status::InvalidArgument("host '" + address.host + "' is not a numeric IP address");
}

void ConfigureConnectedSocket(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

UringStream::UringStream(EventLoop& loop, int fd, std::string peer)
    : loop_(loop), fd_(fd), peer_(std::move(peer)) {}

UringStream::~UringStream() { close(fd_); }

Task<Result<size_t>> UringStream::Read(std::span<const iovec> buffers, CancelToken cancel) {
  if (shut_down_) co_return Status::Unavailable("read on a shut down stream to " + peer_);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(buffers.data());
  message.msg_iovlen = buffers.size();
  const int32_t result = co_await MakeUringOp(loop_, cancel, [&](io_uring_sqe* sqe) {
    io_uring_prep_recvmsg(sqe, fd_, &message, 0);
  });
  if (result >= 0) co_return static_cast<size_t>(result);
  if (cancel.cancelled()) co_return cancel.reason();
  co_return Status::FromErrno(-result, "read from " + peer_);
}

Task<Status> UringStream::Write(std::span<iovec> buffers, CancelToken cancel) {
  while (!buffers.empty()) {
    if (shut_down_) co_return Status::Unavailable("write on a shut down stream to " + peer_);
    msghdr message{};
    message.msg_iov = buffers.data();
    message.msg_iovlen = std::min<size_t>(buffers.size(), IOV_MAX);
    const int32_t result = co_await MakeUringOp(loop_, cancel, [&](io_uring_sqe* sqe) {
      io_uring_prep_sendmsg(sqe, fd_, &message, MSG_NOSIGNAL);
    });
    if (result < 0) {
      if (cancel.cancelled()) co_return cancel.reason();
      co_return Status::FromErrno(-result, "write to " + peer_);
    }
    // A short write leaves the rest for the next round.
    ConsumeIovecs(buffers, static_cast<size_t>(result));
  }
  co_return Status::Ok();
}

void UringStream::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // shutdown() wakes any recv/send in flight on this socket with an error or end of stream.
  ::shutdown(fd_, SHUT_RDWR);
}

UringListener::UringListener(EventLoop& loop, int fd, NetAddress address)
    : loop_(loop), fd_(fd), address_(std::move(address)) {}

UringListener::~UringListener() { close(fd_); }

Task<Result<std::unique_ptr<Stream>>> UringListener::Accept(CancelToken cancel) {
  if (closed_.cancelled()) co_return Status::Unavailable("listener closed");
  // Either the caller's token or Close() interrupts the accept.
  CancelSource either;
  CancelCallback on_caller(cancel, [](void* s) { static_cast<CancelSource*>(s)->Cancel(Status::Cancelled("accept cancelled")); }, &either);
  CancelCallback on_close(closed_.token(), [](void* s) { static_cast<CancelSource*>(s)->Cancel(Status::Unavailable("listener closed")); }, &either);
  if (cancel.cancelled()) co_return cancel.reason();
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof(peer);
  const int32_t result = co_await MakeUringOp(loop_, either.token(), [&](io_uring_sqe* sqe) {
    io_uring_prep_accept(sqe, fd_, reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_CLOEXEC);
  });
  if (result < 0) {
    if (closed_.cancelled()) co_return Status::Unavailable("listener closed");
    if (cancel.cancelled()) co_return cancel.reason();
    co_return Status::FromErrno(-result, "accept on " + address_.ToString());
  }
  ConfigureConnectedSocket(result);
  co_return std::unique_ptr<Stream>(new UringStream(loop_, result, SockaddrToString(peer)));
}

void UringListener::Close() {
  if (closed_.cancelled()) return;
  closed_.Cancel(Status::Unavailable("listener closed"));
  // Stops the kernel from completing new handshakes; the fd itself is closed by the destructor,
  // once no submission can still name it.
  ::shutdown(fd_, SHUT_RDWR);
}

}  // namespace cerulean
