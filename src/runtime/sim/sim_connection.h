// SimConnection: the state of one simulated TCP connection, shared by its two SimStreams (side 0
// connected, side 1 was accepted): two one-way pipes whose bytes arrive after a latency, in order,
// with back-pressure, FIN on shutdown and reset on faults. Registered with the SimNetwork so that
// partitions and node kills reach it. Single-threaded.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <span>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "runtime/cancellation.h"
#include "runtime/intrusive_list.h"
#include "runtime/sim/sim_waiter.h"
#include "runtime/task.h"
#include "runtime/timer_queue.h"

namespace cerulean {

class SimNetwork;
class SimWorld;

class SimConnection {
 public:
  struct Endpoint {
    std::string host;
    uint16_t port = 0;
    std::string ToString() const;
  };

  SimConnection(SimNetwork& network, uint64_t id, Endpoint connecting, Endpoint accepted);
  ~SimConnection();
  SimConnection(const SimConnection&) = delete;
  SimConnection& operator=(const SimConnection&) = delete;

  uint64_t id() const { return id_; }
  const Endpoint& endpoint(int side) const { return endpoints_[side]; }
  bool Involves(std::string_view host) const;

  // The Stream operations of `side` (see Stream in env.h).
  Task<Result<size_t>> Read(int side, std::span<const iovec> buffers, CancelToken cancel);
  Task<Status> Write(int side, std::span<iovec> buffers, CancelToken cancel);
  // Closes `side`: its outstanding and later operations fail, and the peer reads EOF after the
  // bytes already sent. Bytes left unread at this side reset the connection, as in TCP.
  void Shutdown(int side);

  // Fails every pending and later operation of both sides with Unavailable("connection reset").
  void Reset(std::string_view why);
  // Delivers bytes that a partition held, if it has healed.
  void ResumeHeld();

 private:
  struct Segment {
    TimePoint deliver_at;
    std::string bytes;
    bool fin = false;
  };
  // The bytes written by side `from` and read by the other side.
  struct Pipe {
    SimConnection* connection = nullptr;
    int from = 0;
    std::deque<Segment> in_flight;  // deliver_at never decreases along the queue
    std::deque<std::string> readable;
    size_t read_offset = 0;   // into readable.front()
    size_t unread_bytes = 0;  // in flight plus readable: what back-pressure bounds
    TimePoint last_deliver_at;
    bool fin_delivered = false;
    bool held = false;  // a partition stopped delivery
    Timer delivery_timer;
    IntrusiveList<SimWaiter> readers;
    IntrusiveList<SimWaiter> writers;
  };

  Status Usable(int side) const;
  Status Break(int side, Status status);
  void Send(Pipe& pipe, std::string bytes, bool fin);
  void ArmDelivery(Pipe& pipe);
  void Deliver(Pipe& pipe);
  static size_t CopyOut(Pipe& pipe, std::span<const iovec> buffers);
  static void Clear(Pipe& pipe);
  void TraceAt(int side, std::string_view event);

  SimNetwork& network_;
  SimWorld& world_;
  const uint64_t id_;
  Endpoint endpoints_[2];
  Pipe pipes_[2];  // pipes_[side] carries the writes of `side`
  bool shut_down_[2] = {false, false};
  bool broken_[2] = {false, false};
  Status reset_status_;
};

}  // namespace cerulean
