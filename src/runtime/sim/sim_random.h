// SimRandom: the simulator's pseudo-random source, xoshiro256** seeded through splitmix64. Every
// range is derived here rather than with std::uniform_*_distribution, whose output differs between
// standard libraries, so a seed gives the same sequence everywhere. Not thread-safe.
#pragma once

#include <cstdint>

#include "base/time.h"

namespace cerulean {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed);

  // 64 uniformly distributed bits.
  uint64_t Next();
  // Uniform in [0, bound); bound must be positive.
  uint64_t Below(uint64_t bound);
  // Uniform in [0, 1), with 53 bits of precision.
  double Unit();
  // True with `probability`; draws nothing when the probability is 0 or 1, so that a disabled
  // fault site does not shift the sequence seen by everything after it.
  bool Chance(double probability);
  // Uniform in [min, max], at nanosecond resolution; 0 <= min <= max.
  Duration Between(Duration min, Duration max);

 private:
  uint64_t state_[4];
};

}  // namespace cerulean
