#include "runtime/sim/sim_world.h"

#include <fmt/format.h>

#include "base/check.h"
#include "base/logging.h"
#include "runtime/sim/sim_disk.h"
#include "runtime/sim/sim_env.h"
#include "runtime/sim/sim_network.h"

namespace cerulean {
namespace {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

}  // namespace

SimWorld::SimWorld(uint64_t seed)
    : seed_(seed),
      random_(seed),
      trace_hash_(kFnvOffsetBasis),
      network_(std::make_unique<SimNetwork>(*this)) {}

SimWorld::~SimWorld() {
  // Destroying a queued handle is only safe for a coroutine nobody else owns, which the world
  // cannot tell; a workload that stops early leaks its frames, and the leak checker says so.
  if (!ready_.empty() || !timers_.empty()) {
    LOG_WARN("sim world destroyed with work left seed={} ready={} timers={}", seed_, ready_.size(),
             timers_.size());
  }
}

SimEnv& SimWorld::AddNode(std::string host) {
  CHECK(!host.empty() && host.find_first_of(" \n:") == std::string::npos)
      << "bad host name '" << host << "'";
  CHECK(!SimNetwork::IsSelfAlias(host)) << host << " means 'this node'; name nodes otherwise";
  CHECK(!nodes_.contains(host)) << "node " << host << " added twice";
  network_->AddHost(host);
  disks_.emplace(host, std::make_unique<SimDisk>(*this, host));
  auto [it, inserted] = nodes_.emplace(host, std::make_unique<SimEnv>(*this, host));
  Trace(host, "node added");
  return *it->second;
}

SimEnv& SimWorld::node(std::string_view host) {
  auto it = nodes_.find(host);
  CHECK(it != nodes_.end()) << "no node " << host;
  return *it->second;
}

SimDisk& SimWorld::disk(std::string_view host) {
  auto it = disks_.find(host);
  CHECK(it != disks_.end()) << "no node " << host;
  return *it->second;
}

void SimWorld::Schedule(std::coroutine_handle<> handle) {
  CHECK(handle) << "scheduling an empty handle";
  CHECK_LT(ready_.size(), kReadyHandlesMax);
  ready_.push_back(handle);
}

SimWorld::StepOutcome SimWorld::StepBefore(TimePoint end) {
  if (!ready_.empty()) {
    std::coroutine_handle<> handle = ready_.front();
    ready_.pop_front();
    handle.resume();
    return StepOutcome::kRan;
  }
  if (timers_.empty()) return StepOutcome::kIdle;
  const TimePoint next = timers_.NextDeadline();
  if (next > end) return StepOutcome::kPastLimit;
  if (next > now_) now_ = next;
  Timer* timer = timers_.PopExpired(now_);
  CHECK(timer != nullptr);
  timer->fire(timer);
  return StepOutcome::kRan;
}

bool SimWorld::Step() { return StepBefore(TimePoint::Max()) == StepOutcome::kRan; }

bool SimWorld::RunUntilIdle(Duration limit) {
  const TimePoint end = now_ + limit;
  for (uint64_t step = 0; step < kStepsPerRunMax; step++) {
    switch (StepBefore(end)) {
      case StepOutcome::kRan:
        break;
      case StepOutcome::kIdle:
        return true;
      case StepOutcome::kPastLimit:
        now_ = end;
        return false;
    }
  }
  NoteStepLimit();
  return false;
}

void SimWorld::RunFor(Duration duration) {
  const TimePoint end = now_ + duration;
  for (uint64_t step = 0; step < kStepsPerRunMax; step++) {
    if (StepBefore(end) != StepOutcome::kRan) {
      if (end != TimePoint::Max()) now_ = end;
      return;
    }
  }
  NoteStepLimit();
  CHECK(false) << "RunFor took " << kStepsPerRunMax << " steps; seed " << seed_;
}

void SimWorld::NoteStepLimit() {
  Trace("world", fmt::format("step limit {} reached", kStepsPerRunMax));
  LOG_WARN("sim step limit reached seed={} steps={}", seed_, kStepsPerRunMax);
}

void SimWorld::Trace(std::string_view node, std::string_view event) {
  const std::string line = fmt::format("{} {} {}\n", now_.nanos, node, event);
  for (char c : line) {
    trace_hash_ = (trace_hash_ ^ static_cast<unsigned char>(c)) * kFnvPrime;
  }
  if (trace_.size() + line.size() <= kTraceBytesMax) trace_ += line;
}

}  // namespace cerulean
