// Time in Cerulean: durations are std::chrono::nanoseconds; a TimePoint is nanoseconds since the
// Env's epoch (process start in production, zero in simulation). Only Env::Now() reads a clock,
// but for the wall-clock times stamped on stored records (WallClockUnixNanos).
#pragma once

#include <chrono>
#include <cstdint>

namespace cerulean {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

struct TimePoint {
  int64_t nanos = 0;

  static constexpr TimePoint Max() { return {INT64_MAX}; }
  friend constexpr TimePoint operator+(TimePoint t, Duration d) {
    if (d.count() > 0 && t.nanos > INT64_MAX - d.count()) return Max();
    return {t.nanos + d.count()};
  }
  friend constexpr Duration operator-(TimePoint a, TimePoint b) { return Duration(a.nanos - b.nanos); }
  friend constexpr auto operator<=>(TimePoint, TimePoint) = default;
};

// Wall-clock time for the times stored on objects and containers, which clients compare with
// their own clocks. Never for intervals or timeouts: those come from Env::Now().
inline int64_t WallClockUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t ToMicros(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }
inline int64_t ToMillis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace cerulean
