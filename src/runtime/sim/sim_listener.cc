#include "runtime/sim/sim_listener.h"

#include <fmt/format.h>

#include "runtime/sim/sim_network.h"
#include "runtime/sim/sim_world.h"

namespace cerulean {

SimListener::SimListener(SimNetwork& network, NetAddress address)
    : network_(network), address_(std::move(address)) {}

SimListener::~SimListener() { Close(); }

Task<Result<std::unique_ptr<Stream>>> SimListener::Accept(CancelToken cancel) {
  // Each pass either returns or waits for a connection, a close or the token.
  while (true) {
    if (closed_) {
      co_return Status::Unavailable(fmt::format("listener {} closed", address_.ToString()));
    }
    if (cancel.cancelled()) co_return cancel.reason();
    if (!backlog_.empty()) {
      std::unique_ptr<Stream> stream = std::move(backlog_.front());
      backlog_.pop_front();
      network_.world().Trace(
          address_.host, fmt::format("accept on port {} from {}", address_.port, stream->peer()));
      co_return stream;
    }
    Status woken = co_await SimWaiter::On(network_.world(), acceptors_, cancel);
    if (!woken.ok()) co_return woken;
  }
}

void SimListener::Close() {
  if (closed_) return;
  closed_ = true;
  network_.Unregister(this);
  network_.world().Trace(address_.host, fmt::format("listener {} closed", address_.port));
  // The kernel resets connections that were never accepted.
  for (std::unique_ptr<SimStream>& stream : backlog_) stream->connection().Reset("listener closed");
  backlog_.clear();
  SimWaiter::WakeAll(acceptors_);
}

void SimListener::Enqueue(std::unique_ptr<SimStream> stream) {
  CHECK(!closed_ && !backlog_full());
  backlog_.push_back(std::move(stream));
  SimWaiter::WakeAll(acceptors_);
}

}  // namespace cerulean
