// SimStream: one side of a simulated TCP connection, the Stream that SimEnv::Connect and
// SimListener::Accept return. Destroying it shuts its side down. Single-threaded.
#pragma once

#include <memory>

#include "runtime/env.h"
#include "runtime/sim/sim_connection.h"

namespace cerulean {

class SimStream final : public Stream {
 public:
  SimStream(std::shared_ptr<SimConnection> connection, int side)
      : connection_(std::move(connection)), side_(side) {}
  ~SimStream() override { connection_->Shutdown(side_); }

  Task<Result<size_t>> Read(std::span<const iovec> buffers, CancelToken cancel) override {
    return connection_->Read(side_, buffers, cancel);
  }
  Task<Status> Write(std::span<iovec> buffers, CancelToken cancel) override {
    return connection_->Write(side_, buffers, cancel);
  }
  void Shutdown() override { connection_->Shutdown(side_); }
  std::string peer() const override { return connection_->endpoint(1 - side_).ToString(); }

  SimConnection& connection() { return *connection_; }

 private:
  std::shared_ptr<SimConnection> connection_;
  const int side_;
};

}  // namespace cerulean
