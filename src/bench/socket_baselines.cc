#include "bench/socket_baselines.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/check.h"

namespace cerulean::bench {
namespace {

using Clock = std::chrono::steady_clock;

int ListenLoopback(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) << std::strerror(errno);
  CHECK(listen(fd, 16) == 0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(address.sin_port);
  return fd;
}

int ConnectLoopback(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  CHECK(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) << std::strerror(errno);
  return fd;
}

void NoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

bool ReadFully(int fd, std::byte* data, size_t bytes) {
  while (bytes > 0) {
    const ssize_t n = recv(fd, data, bytes, 0);
    if (n <= 0) return false;
    data += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteFully(int fd, const std::byte* data, size_t bytes) {
  while (bytes > 0) {
    const ssize_t n = send(fd, data, bytes, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void PinThisThread(int core) {
  if (core < 0) return;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(core) % cores, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Both ends run on threads of their own, pinned there: the caller's thread keeps its affinity,
// which the threads it starts later inherit (a bench's servers and clients, measured next).
PingPongResult MeasureRawPingPong(size_t message_bytes, size_t warmup_round_trips, size_t round_trips,
                                  int server_core, int client_core) {
  uint16_t port = 0;
  const int listener = ListenLoopback(&port);
  std::thread server([&] {
    PinThisThread(server_core);
    const int fd = accept(listener, nullptr, nullptr);
    NoDelay(fd);
    std::vector<std::byte> buffer(message_bytes);
    while (ReadFully(fd, buffer.data(), message_bytes) && WriteFully(fd, buffer.data(), message_bytes)) {
    }
    close(fd);
  });
  PingPongResult result;
  std::thread client([&] {
    PinThisThread(client_core);
    const int fd = ConnectLoopback(port);
    NoDelay(fd);
    std::vector<std::byte> buffer(message_bytes, std::byte{1});
    result.latencies_us.reserve(round_trips);
    for (size_t i = 0; i < warmup_round_trips; i++) {
      CHECK(WriteFully(fd, buffer.data(), message_bytes) && ReadFully(fd, buffer.data(), message_bytes));
    }
    const auto start = Clock::now();
    for (size_t i = 0; i < round_trips; i++) {
      const auto before = Clock::now();
      CHECK(WriteFully(fd, buffer.data(), message_bytes) && ReadFully(fd, buffer.data(), message_bytes));
      result.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.ops_per_second = static_cast<double>(round_trips) / seconds;
    close(fd);
  });
  client.join();
  server.join();
  close(listener);
  std::sort(result.latencies_us.begin(), result.latencies_us.end());
  return result;
}

double MeasureRawStream(size_t chunk_bytes, Duration duration, int receiver_core, int sender_core) {
  uint16_t port = 0;
  const int listener = ListenLoopback(&port);
  std::atomic<uint64_t> received{0};
  std::thread receiver([&] {
    PinThisThread(receiver_core);
    const int fd = accept(listener, nullptr, nullptr);
    std::vector<std::byte> buffer(chunk_bytes);
    while (true) {
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      received.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    }
    close(fd);
  });
  double seconds = 0;
  uint64_t bytes = 0;
  std::thread sender([&] {  // not on the caller's thread, whose affinity stays as it was
    PinThisThread(sender_core);
    const int fd = ConnectLoopback(port);
    std::vector<std::byte> chunk(chunk_bytes, std::byte{7});
    // Warm up for a tenth of the time, then measure what the receiver got.
    const auto warm_until = Clock::now() + duration / 10;
    while (Clock::now() < warm_until) WriteFully(fd, chunk.data(), chunk.size());
    const uint64_t received_before = received.load();
    const auto start = Clock::now();
    const auto until = start + duration;
    while (Clock::now() < until) WriteFully(fd, chunk.data(), chunk.size());
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    bytes = received.load() - received_before;
    shutdown(fd, SHUT_WR);
    close(fd);
  });
  sender.join();
  receiver.join();
  close(listener);
  return static_cast<double>(bytes) / seconds;
}

double MeasureIperf3(Duration duration, int server_core, int client_core) {
  if (std::system("command -v iperf3 >/dev/null 2>&1") != 0) return -1;
  uint16_t port = 0;
  {  // find a free port
    const int probe = ListenLoopback(&port);
    close(probe);
  }
  const std::string server = fmt::format("iperf3 -s -1 -B 127.0.0.1 -p {} -A {} >/dev/null 2>&1 &", port, server_core);
  if (std::system(server.c_str()) != 0) return -1;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int seconds = std::max<int>(1, static_cast<int>(ToMillis(duration) / 1000));
  const std::string client = fmt::format("iperf3 -c 127.0.0.1 -p {} -t {} -A {} -J 2>/dev/null", port, seconds, client_core);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(client.c_str(), "r"), pclose);
  if (!pipe) return -1;
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe.get())) output.append(buffer, n);
  auto json = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.contains("end")) return -1;
  return json["end"]["sum_received"]["bits_per_second"].get<double>() / 8;
}

}  // namespace cerulean::bench
