#include "bench/kv_baselines.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <sstream>
#include <thread>
#include <vector>

#include "base/check.h"
#include "bench/bench_report.h"

namespace cerulean::bench {
namespace {

// Starts `argv` with its output discarded; the child's pid.
pid_t Spawn(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

bool Installed(const char* program) {
  return std::system(fmt::format("command -v {} > /dev/null 2>&1", program).c_str()) == 0;
}

int Connect(int port) {
  for (int attempt = 0; attempt < 50; attempt++) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return fd;
    }
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // still starting
  }
  return -1;
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EAGAIN) {
      pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
      poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One memcached connection's response to a multi-get, parsed as it arrives. Each value lands
// in its own place in the connection's destination (depth × value bytes, as a Cerulean stream's
// piece buffers): big value bytes are read from the socket straight into it, as Cerulean's client
// receives into the caller's buffers; what comes in with a header line is copied there.
struct GetResponse {
  std::span<std::byte> destination;
  size_t value_bytes = 0;
  std::string pending;     // a header line not yet complete
  size_t data_left = 0;    // bytes of the current value still to come
  size_t crlf_left = 0;    // of the CRLF after it
  size_t values = 0;
  bool done = false;

  void Start() {
    pending.clear();
    data_left = crlf_left = values = 0;
    done = false;
  }
  // Where the current value's next bytes go, when the socket may be read straight into it.
  std::span<std::byte> ValueRoom() {
    if (data_left == 0) return {};
    return destination.subspan((values - 1) * value_bytes + (value_bytes - data_left), data_left);
  }
  // Counts bytes read straight into ValueRoom().
  void Landed(size_t n) { data_left -= n; }

  // Feeds bytes read into another buffer; false on a malformed response.
  bool Feed(const char* data, size_t size) {
    while (size > 0 && !done) {
      if (data_left > 0) {
        const size_t n = std::min(data_left, size);
        std::memcpy(ValueRoom().data(), data, n);
        data_left -= n;
        data += n;
        size -= n;
        continue;
      }
      if (crlf_left > 0) {
        const size_t n = std::min(crlf_left, size);
        crlf_left -= n;
        data += n;
        size -= n;
        continue;
      }
      const char* newline = static_cast<const char*>(std::memchr(data, '\n', size));
      const size_t take = newline == nullptr ? size : static_cast<size_t>(newline - data + 1);
      pending.append(data, take);
      data += take;
      size -= take;
      if (newline == nullptr) continue;
      if (pending == "END\r\n") {
        done = true;
      } else if (pending.starts_with("VALUE ")) {
        const size_t last_space = pending.rfind(' ');
        data_left = std::strtoull(pending.c_str() + last_space + 1, nullptr, 10);
        crlf_left = 2;
        values++;
        if (data_left != value_bytes || values * value_bytes > destination.size()) return false;
      } else {
        return false;
      }
      pending.clear();
    }
    return true;
  }
};

// memcached's -I: a whole number of MiB (a multiple of its 512 KiB slab chunk) with room for
// the item header past `value_bytes`.
size_t ItemSizeMib(size_t value_bytes) { return value_bytes / (1 << 20) + 1; }

}  // namespace

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  CHECK(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  const int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

std::optional<KvLoadResult> RedisBenchmarkGets(int port, size_t bytes, size_t pipeline, size_t requests) {
  if (!Installed("redis-benchmark")) return std::nullopt;
  const std::string command =
      fmt::format("redis-benchmark -p {} -t set,get -d {} -P {} -c 16 -n {} --csv 2>/dev/null", port, bytes, pipeline, requests);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char chunk[4096];
  while (size_t n = fread(chunk, 1, sizeof(chunk), pipe)) output.append(chunk, n);
  pclose(pipe);
  // "GET","rps","avg","min","p50","p95","p99","max" (milliseconds)
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("\"GET\"")) continue;
    std::vector<double> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) {
      std::erase(cell, '"');
      fields.push_back(std::strtod(cell.c_str(), nullptr));
    }
    if (fields.size() < 8 || fields[1] <= 0) return std::nullopt;
    return KvLoadResult{.ops_per_second = fields[1], .bytes_per_second = fields[1] * static_cast<double>(bytes),
                        .p50_us = fields[4] * 1000, .p99_us = fields[6] * 1000, .p999_us = 0};
  }
  return std::nullopt;
}

RedisServer::RedisServer() {
  if (!Installed("redis-server")) return;
  port_ = FreeLoopbackPort();
  pid_ = Spawn({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                "no", "--daemonize", "no", "--loglevel", "warning"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

RedisServer::~RedisServer() { Stop(pid_); }

MemcachedServer::MemcachedServer(size_t item_bytes_max, size_t memory_mib) {
  if (!Installed("memcached")) return;
  port_ = FreeLoopbackPort();
  std::vector<std::string> argv = {"memcached", "-l", "127.0.0.1", "-p", std::to_string(port_), "-U", "0",
                                   "-c", "256", "-I", fmt::format("{}m", ItemSizeMib(item_bytes_max)),
                                   "-m", std::to_string(memory_mib)};
  if (geteuid() == 0) {  // memcached refuses to run as root unless told which user to be
    argv.push_back("-u");
    argv.push_back("root");
  }
  pid_ = Spawn(argv);
  const int probe = Connect(port_);
  if (probe < 0) {
    Stop(pid_);
    pid_ = -1;
    return;
  }
  close(probe);
}

MemcachedServer::~MemcachedServer() { Stop(pid_); }

std::optional<KvLoadResult> MemcachedServer::Gets(size_t bytes, size_t keys, size_t depth, size_t connections,
                                                  Duration duration) const {
  if (pid_ <= 0) return std::nullopt;
  std::vector<int> fds;
  for (size_t i = 0; i < connections; i++) {
    const int fd = Connect(port_);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  const auto close_all = [&] {
    for (int fd : fds) close(fd);
  };
  if (fds.size() != connections) {
    close_all();
    return std::nullopt;
  }
  // Load: the same value under every key.
  const std::string value(bytes, 'v');
  char reply[64];
  for (size_t k = 0; k < keys; k++) {
    const std::string set = fmt::format("set k{} 0 0 {}\r\n", k, bytes);
    if (!WriteAll(fds[0], set) || !WriteAll(fds[0], value) || !WriteAll(fds[0], "\r\n") ||
        read(fds[0], reply, sizeof(reply)) < 8 || std::strncmp(reply, "STORED", 6) != 0) {
      close_all();
      return std::nullopt;
    }
  }
  for (int fd : fds) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  // Closed loop: each connection has one multi-get in flight and sends the next as it ends.
  std::mt19937_64 random(11);
  std::vector<GetResponse> responses(fds.size());
  std::vector<std::vector<std::byte>> destinations(fds.size());
  for (size_t c = 0; c < fds.size(); c++) {
    destinations[c].assign(depth * bytes, std::byte{1});  // touched: no first-touch faults timed
    responses[c].destination = destinations[c];
    responses[c].value_bytes = bytes;
  }
  std::vector<std::chrono::steady_clock::time_point> sent(fds.size());
  std::vector<double> latencies;
  std::vector<char> buffer(16 << 10);  // header lines, and whatever value bytes come with them
  size_t values = 0;
  bool failed = false;
  const auto send = [&](size_t c) {
    std::string request = "get";
    for (size_t d = 0; d < depth; d++) request += fmt::format(" k{}", random() % keys);
    request += "\r\n";
    responses[c].Start();
    sent[c] = std::chrono::steady_clock::now();
    if (!WriteAll(fds[c], request)) failed = true;
  };
  for (size_t c = 0; c < fds.size(); c++) send(c);
  std::vector<pollfd> polls(fds.size());
  const auto start = std::chrono::steady_clock::now();
  bool measuring = false;  // the first 10% of the time warms up
  auto measured_from = start;
  while (!failed) {
    const auto now = std::chrono::steady_clock::now();
    if (now - start >= duration) break;
    if (!measuring && now - start >= duration / 10) {
      measuring = true;
      measured_from = now;
      latencies.clear();
      values = 0;
    }
    for (size_t c = 0; c < fds.size(); c++) polls[c] = {.fd = fds[c], .events = POLLIN, .revents = 0};
    if (poll(polls.data(), polls.size(), 1000) <= 0) {
      failed = true;
      break;
    }
    for (size_t c = 0; c < fds.size(); c++) {
      if ((polls[c].revents & POLLIN) == 0) continue;
      // Value bytes go straight to their place; header lines through the small buffer.
      const std::span<std::byte> room = responses[c].ValueRoom();
      if (room.size() >= buffer.size()) {
        const ssize_t n = read(fds[c], room.data(), room.size());
        if (n <= 0) {
          failed = n < 0 && errno == EAGAIN ? failed : true;
          continue;
        }
        responses[c].Landed(static_cast<size_t>(n));
        continue;  // the CRLF and the next header come through the buffer
      }
      const ssize_t n = read(fds[c], buffer.data(), buffer.size());
      if (n <= 0 || !responses[c].Feed(buffer.data(), static_cast<size_t>(n))) {
        failed = n < 0 && errno == EAGAIN ? failed : true;
        continue;
      }
      if (responses[c].done) {
        if (responses[c].values != depth) failed = true;  // a miss: the cache was too small
        latencies.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - sent[c]).count());
        values += depth;
        send(c);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - measured_from).count();
  close_all();
  if (failed || latencies.empty()) return std::nullopt;
  std::sort(latencies.begin(), latencies.end());
  return KvLoadResult{.ops_per_second = static_cast<double>(values) / seconds,
                      .bytes_per_second = static_cast<double>(values * bytes) / seconds,
                      .p50_us = Percentile(latencies, 50),
                      .p99_us = Percentile(latencies, 99),
                      .p999_us = Percentile(latencies, 99.9)};
}

}  // namespace cerulean::bench
