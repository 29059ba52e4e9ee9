// Time in Cerulean: durations are std::chrono::nanoseconds; a TimePoint is nanoseconds since the
// Env's epoch (process start in production, zero in simulation). Only Env::Now() reads a clock.
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

inline int64_t ToMicros(Duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }
inline int64_t ToMillis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace cerulean
