// SimWorld: a deterministic simulation of a cluster in one thread. It owns the virtual clock, the
// seeded random source, the FIFO ready queue, the timers, the network, each node's disk and Env,
// and a trace of notable events: the same seed and workload give a byte-identical trace.
// Single-threaded; everything a node's Env hands out must be destroyed before the world.
#pragma once

#include <coroutine>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/time.h"
#include "runtime/sim/sim_random.h"
#include "runtime/timer_queue.h"

namespace cerulean {

class SimDisk;
class SimEnv;
class SimNetwork;

class SimWorld {
 public:
  // How far a Run call goes in virtual time unless told otherwise.
  static constexpr Duration kRunLimitDefault = std::chrono::hours(24);
  // Steps (a resumed coroutine or a fired timer) one Run call may take: a workload that needs
  // more is spinning, e.g. yielding in a loop while waiting for virtual time to pass.
  static constexpr uint64_t kStepsPerRunMax = 50'000'000;
  static constexpr size_t kReadyHandlesMax = size_t{1} << 20;
  // The trace stops growing here; trace_hash() still covers every event.
  static constexpr size_t kTraceBytesMax = size_t{64} << 20;

  explicit SimWorld(uint64_t seed);
  ~SimWorld();
  SimWorld(const SimWorld&) = delete;
  SimWorld& operator=(const SimWorld&) = delete;

  // Adds a simulated host ("10.0.0.1", "a") with its own Env, disk and network presence.
  SimEnv& AddNode(std::string host);
  SimEnv& node(std::string_view host);
  SimDisk& disk(std::string_view host);
  SimNetwork& network() { return *network_; }

  // --- running. Virtual time moves only when no coroutine is ready: it jumps to the next timer.
  // Resumes one ready coroutine, or else fires the next timer. False when nothing is left.
  bool Step();
  // Runs until nothing is ready or armed (true), or until the next event lies more than `limit`
  // past the start (false, with the clock at the limit).
  bool RunUntilIdle(Duration limit = kRunLimitDefault);
  // Runs every event due within `duration`, then sets the clock to the end of it.
  void RunFor(Duration duration);
  // Runs until `done()` (checked between steps) is true; false if the world went idle or the
  // virtual `limit` passed first.
  template <typename Predicate>
  bool RunUntil(Predicate done, Duration limit = kRunLimitDefault);

  // --- determinism
  uint64_t seed() const { return seed_; }
  TimePoint Now() const { return now_; }
  uint64_t Random() { return random_.Next(); }
  double RandomUnit() { return random_.Unit(); }
  uint64_t RandomBelow(uint64_t bound) { return random_.Below(bound); }
  bool RandomChance(double probability) { return random_.Chance(probability); }
  Duration RandomDuration(Duration min, Duration max) { return random_.Between(min, max); }

  // Appends "<nanos> <node> <event>\n" to the trace.
  void Trace(std::string_view node, std::string_view event);
  const std::string& trace() const { return trace_; }
  // FNV-1a of every traced byte, including any past kTraceBytesMax.
  uint64_t trace_hash() const { return trace_hash_; }

  // --- the event loop behind every node's Env
  void Schedule(std::coroutine_handle<> handle);
  void ArmTimer(Timer& timer) { timers_.Arm(timer); }
  void DisarmTimer(Timer& timer) { timers_.Disarm(timer); }
  size_t ready_count() const { return ready_.size(); }
  size_t timer_count() const { return timers_.size(); }

 private:
  enum class StepOutcome { kRan, kIdle, kPastLimit };
  // One step, unless the next event lies after `end`.
  StepOutcome StepBefore(TimePoint end);
  void NoteStepLimit();

  const uint64_t seed_;
  SimRandom random_;
  TimePoint now_;
  std::deque<std::coroutine_handle<>> ready_;
  TimerQueue timers_;
  std::string trace_;
  uint64_t trace_hash_;
  std::unique_ptr<SimNetwork> network_;
  std::map<std::string, std::unique_ptr<SimDisk>, std::less<>> disks_;
  std::map<std::string, std::unique_ptr<SimEnv>, std::less<>> nodes_;
};

template <typename Predicate>
bool SimWorld::RunUntil(Predicate done, Duration limit) {
  const TimePoint end = now_ + limit;
  for (uint64_t step = 0; step < kStepsPerRunMax; step++) {
    if (done()) return true;
    switch (StepBefore(end)) {
      case StepOutcome::kRan:
        break;
      case StepOutcome::kIdle:
        return done();
      case StepOutcome::kPastLimit:
        now_ = end;
        return done();
    }
  }
  NoteStepLimit();
  return done();
}

}  // namespace cerulean
