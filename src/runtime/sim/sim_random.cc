#include "runtime/sim/sim_random.h"

#include "base/check.h"

namespace cerulean {
namespace {

// Rejection sampling in Below() redraws with probability below 1/2 per attempt, so this bound is
// reached with probability below 2^-64; it only keeps the loop visibly finite.
constexpr int kBelowAttemptsMax = 64;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t RotateLeft(uint64_t value, int bits) { return (value << bits) | (value >> (64 - bits)); }

}  // namespace

SimRandom::SimRandom(uint64_t seed) {
  // splitmix64 spreads any seed, including 0, over a state that is never all zeros.
  uint64_t mixer = seed;
  for (uint64_t& word : state_) word = SplitMix64(mixer);
}

uint64_t SimRandom::Next() {
  const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
  const uint64_t shifted = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= shifted;
  state_[3] = RotateLeft(state_[3], 45);
  return result;
}

uint64_t SimRandom::Below(uint64_t bound) {
  CHECK(bound > 0) << "Below(0)";
  // Values below `threshold` would make `value % bound` favor small results; redraw them.
  const uint64_t threshold = (0 - bound) % bound;
  uint64_t value = Next();
  for (int attempt = 1; value < threshold && attempt < kBelowAttemptsMax; attempt++) {
    value = Next();
  }
  return value % bound;
}

double SimRandom::Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

bool SimRandom::Chance(double probability) {
  if (probability <= 0) return false;
  if (probability >= 1) return true;
  return Unit() < probability;
}

Duration SimRandom::Between(Duration min, Duration max) {
  CHECK(min.count() >= 0 && min <= max)
      << "bad range " << min.count() << ".." << max.count() << " ns";
  const uint64_t span_nanos = static_cast<uint64_t>(max.count() - min.count());
  return min + Duration(static_cast<int64_t>(Below(span_nanos + 1)));
}

}  // namespace cerulean
