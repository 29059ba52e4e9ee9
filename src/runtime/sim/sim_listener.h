// SimListener: a listening socket of a simulated node. Connects that reach it wait in a bounded
// backlog until accepted. Registered with the SimNetwork while open; single-threaded.
#pragma once

#include <deque>
#include <memory>

#include "runtime/env.h"
#include "runtime/intrusive_list.h"
#include "runtime/sim/sim_network.h"
#include "runtime/sim/sim_stream.h"
#include "runtime/sim/sim_waiter.h"

namespace cerulean {

class SimListener final : public Listener {
 public:
  SimListener(SimNetwork& network, NetAddress address);
  ~SimListener() override;

  Task<Result<std::unique_ptr<Stream>>> Accept(CancelToken cancel) override;
  NetAddress address() const override { return address_; }
  void Close() override;

  // --- used by SimNetwork
  bool backlog_full() const { return backlog_.size() >= SimNetwork::kListenBacklogMax; }
  void Enqueue(std::unique_ptr<SimStream> stream);

 private:
  SimNetwork& network_;
  const NetAddress address_;
  std::deque<std::unique_ptr<SimStream>> backlog_;
  IntrusiveList<SimWaiter> acceptors_;
  bool closed_ = false;
};

}  // namespace cerulean
