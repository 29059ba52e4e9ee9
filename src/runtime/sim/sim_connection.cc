#include "runtime/sim/sim_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "runtime/sim/sim_network.h"
#include "runtime/sim/sim_world.h"

namespace cerulean {

std::string SimConnection::Endpoint::ToString() const { return fmt::format("{}:{}", host, port); }

SimConnection::SimConnection(SimNetwork& network, uint64_t id, Endpoint connecting,
                             Endpoint accepted)
    : network_(network),
      world_(network.world()),
      id_(id),
      endpoints_{std::move(connecting), std::move(accepted)} {
  for (int side = 0; side < 2; side++) {
    Pipe& pipe = pipes_[side];
    pipe.connection = this;
    pipe.from = side;
    pipe.delivery_timer.context = &pipe;
    pipe.delivery_timer.fire = [](Timer* timer) {
      auto* fired = static_cast<Pipe*>(timer->context);
      fired->connection->Deliver(*fired);
    };
  }
  network_.Register(this);
}

SimConnection::~SimConnection() {
  for (Pipe& pipe : pipes_) {
    CHECK(pipe.readers.empty() && pipe.writers.empty()) << "connection destroyed with waiters";
    world_.DisarmTimer(pipe.delivery_timer);
  }
  network_.Unregister(this);
}

bool SimConnection::Involves(std::string_view host) const {
  return endpoints_[0].host == host || endpoints_[1].host == host;
}

void SimConnection::TraceAt(int side, std::string_view event) {
  world_.Trace(endpoints_[side].host, fmt::format("conn {} {}", id_, event));
}

Status SimConnection::Usable(int side) const {
  if (shut_down_[side]) return Status::FailedPrecondition("stream shut down");
  if (broken_[side]) return Status::FailedPrecondition("stream broken by an earlier failure");
  return reset_status_;
}

Status SimConnection::Break(int side, Status status) {
  broken_[side] = true;
  return status;
}

Task<Result<size_t>> SimConnection::Read(int side, std::span<const iovec> buffers,
                                         CancelToken cancel) {
  size_t capacity = 0;
  for (const iovec& buffer : buffers) capacity += buffer.iov_len;
  if (capacity == 0) co_return Status::InvalidArgument("read into empty buffers");
  Pipe& pipe = pipes_[1 - side];
  // Each pass either returns or waits for a delivery, a reset, a shutdown or the token.
  while (true) {
    if (Status usable = Usable(side); !usable.ok()) co_return Break(side, std::move(usable));
    if (cancel.cancelled()) co_return Break(side, cancel.reason());
    if (!pipe.readable.empty()) {
      const size_t read_bytes = CopyOut(pipe, buffers);
      SimWaiter::WakeAll(pipe.writers);
      co_return read_bytes;
    }
    if (pipe.fin_delivered) co_return size_t{0};
    Status woken = co_await SimWaiter::On(world_, pipe.readers, cancel);
    if (!woken.ok()) co_return Break(side, std::move(woken));
  }
}

Task<Status> SimConnection::Write(int side, std::span<iovec> buffers, CancelToken cancel) {
  Pipe& pipe = pipes_[side];
  size_t buffer_index = 0;
  // Each pass sends what the window allows, or waits for the reader to drain.
  while (true) {
    while (buffer_index < buffers.size() && buffers[buffer_index].iov_len == 0) buffer_index++;
    if (buffer_index == buffers.size()) co_return Status::Ok();
    if (Status usable = Usable(side); !usable.ok()) co_return Break(side, std::move(usable));
    if (cancel.cancelled()) co_return Break(side, cancel.reason());
    if (pipe.unread_bytes >= SimNetwork::kUnreadBytesMax) {
      Status woken = co_await SimWaiter::On(world_, pipe.writers, cancel);
      if (!woken.ok()) co_return Break(side, std::move(woken));
      continue;
    }
    // Gather as much as the window takes into one segment: one write, one delivery.
    size_t window = SimNetwork::kUnreadBytesMax - pipe.unread_bytes;
    std::string bytes;
    for (; buffer_index < buffers.size() && window > 0; buffer_index++) {
      iovec& buffer = buffers[buffer_index];
      const size_t taken = std::min(buffer.iov_len, window);
      bytes.append(static_cast<const char*>(buffer.iov_base), taken);
      buffer.iov_base = static_cast<char*>(buffer.iov_base) + taken;
      buffer.iov_len -= taken;
      window -= taken;
      if (buffer.iov_len > 0) break;
    }
    Send(pipe, std::move(bytes), /*fin=*/false);
  }
}

void SimConnection::Shutdown(int side) {
  if (shut_down_[side]) return;
  shut_down_[side] = true;
  Pipe& outgoing = pipes_[side];
  Pipe& incoming = pipes_[1 - side];
  // Outstanding operations of this side see the shutdown when they wake.
  SimWaiter::WakeAll(outgoing.writers);
  SimWaiter::WakeAll(incoming.readers);
  if (!reset_status_.ok()) return;
  TraceAt(side, "shutdown");
  if (incoming.unread_bytes > 0) {
    Reset("closed with unread bytes");
    return;
  }
  Send(outgoing, std::string(), /*fin=*/true);
}

void SimConnection::Reset(std::string_view why) {
  if (!reset_status_.ok()) return;
  reset_status_ = Status::Unavailable(fmt::format(
      "connection reset ({}) {} <-> {}", why, endpoints_[0].ToString(), endpoints_[1].ToString()));
  TraceAt(0, fmt::format("reset: {}", why));
  for (Pipe& pipe : pipes_) {
    Clear(pipe);
    SimWaiter::WakeAll(pipe.readers);
    SimWaiter::WakeAll(pipe.writers);
  }
}

void SimConnection::Clear(Pipe& pipe) {
  pipe.connection->world_.DisarmTimer(pipe.delivery_timer);
  pipe.in_flight.clear();
  pipe.readable.clear();
  pipe.read_offset = 0;
  pipe.unread_bytes = 0;
  pipe.held = false;
}

void SimConnection::ResumeHeld() {
  for (Pipe& pipe : pipes_) {
    if (!pipe.held || network_.Partitioned(endpoints_[0].host, endpoints_[1].host)) continue;
    pipe.held = false;
    TraceAt(pipe.from, fmt::format("resume {} held segments", pipe.in_flight.size()));
    ArmDelivery(pipe);
  }
}

void SimConnection::Send(Pipe& pipe, std::string bytes, bool fin) {
  // Later bytes never overtake earlier ones: TCP delivers in order whatever each packet's delay.
  const TimePoint deliver_at =
      std::max(world_.Now() + network_.DrawLatency(), pipe.last_deliver_at);
  pipe.last_deliver_at = deliver_at;
  pipe.unread_bytes += bytes.size();
  pipe.in_flight.push_back(Segment{deliver_at, std::move(bytes), fin});
  ArmDelivery(pipe);
}

void SimConnection::ArmDelivery(Pipe& pipe) {
  if (pipe.delivery_timer.armed() || pipe.held || pipe.in_flight.empty()) return;
  pipe.delivery_timer.deadline = std::max(pipe.in_flight.front().deliver_at, world_.Now());
  world_.ArmTimer(pipe.delivery_timer);
}

void SimConnection::Deliver(Pipe& pipe) {
  const int to = 1 - pipe.from;
  if (network_.Partitioned(endpoints_[0].host, endpoints_[1].host)) {
    pipe.held = true;
    TraceAt(to, fmt::format("hold {} segments: partitioned", pipe.in_flight.size()));
    return;
  }
  while (!pipe.in_flight.empty() && pipe.in_flight.front().deliver_at <= world_.Now()) {
    Segment segment = std::move(pipe.in_flight.front());
    pipe.in_flight.pop_front();
    if (segment.fin) {
      pipe.fin_delivered = true;
      TraceAt(to, fmt::format("fin from {}", endpoints_[pipe.from].ToString()));
      continue;
    }
    if (shut_down_[to]) {
      Reset("bytes for a closed socket");
      return;
    }
    TraceAt(to, fmt::format("deliver {} bytes from {}", segment.bytes.size(),
                            endpoints_[pipe.from].ToString()));
    pipe.readable.push_back(std::move(segment.bytes));
    if (world_.RandomChance(network_.options().reset_probability)) {
      Reset("injected");
      return;
    }
  }
  SimWaiter::WakeAll(pipe.readers);
  ArmDelivery(pipe);
}

size_t SimConnection::CopyOut(Pipe& pipe, std::span<const iovec> buffers) {
  size_t copied = 0;
  for (const iovec& buffer : buffers) {
    size_t filled = 0;
    while (filled < buffer.iov_len && !pipe.readable.empty()) {
      const std::string& front = pipe.readable.front();
      const size_t taken = std::min(buffer.iov_len - filled, front.size() - pipe.read_offset);
      std::memcpy(static_cast<char*>(buffer.iov_base) + filled, front.data() + pipe.read_offset,
                  taken);
      filled += taken;
      pipe.read_offset += taken;
      if (pipe.read_offset == front.size()) {
        pipe.readable.pop_front();
        pipe.read_offset = 0;
      }
    }
    copied += filled;
    if (pipe.readable.empty()) break;
  }
  pipe.unread_bytes -= copied;
  return copied;
}

}  // namespace cerulean
