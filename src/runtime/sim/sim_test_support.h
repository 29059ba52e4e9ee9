// Support for simulation tests: seeds, the rerun line a failing one prints, and running a task
// to completion. A test takes its seed from the CERULEAN_SIM_SEED environment variable when set,
// so a failure found by a sweep over many seeds can be replayed alone:
//
//   for (uint64_t seed : SimSeeds(/*count=*/200)) {
//     SIM_SCOPED_SEED(seed);   // failures inside print "sim seed=N (rerun: CERULEAN_SIM_SEED=N
//     ...)" SimWorld world(seed);
//     ...
//   }
//
// Header-only; for gtest binaries.
#pragma once

#include <errno.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "runtime/env.h"
#include "runtime/sim/sim_world.h"
#include "runtime/spawn.h"
#include "runtime/task.h"

namespace cerulean {

inline constexpr char kSimSeedVariable[] = "CERULEAN_SIM_SEED";
inline constexpr uint64_t kSimSeedDefault = 20240601;
// Sweeps longer than this belong in a soak job, not a unit test.
inline constexpr size_t kSimSeedSweepMax = 100'000;

// The seed in CERULEAN_SIM_SEED, if the variable is set (it must then be a decimal number).
inline bool SimSeedFromEnvironment(uint64_t* seed) {
  const char* text = std::getenv(kSimSeedVariable);
  if (text == nullptr || *text == '\0') return false;
  const std::string_view view(text);
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), *seed);
  CHECK(error == std::errc() && end == view.data() + view.size())
      << kSimSeedVariable << "='" << view << "' is not a decimal seed";
  return true;
}

// CERULEAN_SIM_SEED if set, else `fallback`.
inline uint64_t SimSeed(uint64_t fallback = kSimSeedDefault) {
  uint64_t seed = fallback;
  return SimSeedFromEnvironment(&seed) ? seed : fallback;
}

// The seeds a sweep should run: only CERULEAN_SIM_SEED if set, else `count` seeds from `first`.
inline std::vector<uint64_t> SimSeeds(size_t count, uint64_t first = kSimSeedDefault) {
  CHECK_LE(count, kSimSeedSweepMax);
  uint64_t seed = 0;
  if (SimSeedFromEnvironment(&seed)) return {seed};
  std::vector<uint64_t> seeds;
  seeds.reserve(count);
  for (size_t i = 0; i < count; i++) seeds.push_back(first + i);
  return seeds;
}

// "sim seed=N (rerun: CERULEAN_SIM_SEED=N ./sim_test --gtest_filter=Suite.Name)".
inline std::string SimSeedMessage(uint64_t seed) {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string filter =
      test == nullptr ? std::string()
                      : fmt::format(" --gtest_filter={}.{}", test->test_suite_name(), test->name());
  return fmt::format("sim seed={} (rerun: {}={} {}{})", seed, kSimSeedVariable, seed,
                     program_invocation_name, filter);
}

namespace detail {
template <typename T>
Task<void> StoreSimResult(Task<T> task, std::shared_ptr<std::optional<T>> slot) {
  slot->emplace(co_await std::move(task));
}
}  // namespace detail

// Starts `task` on `env` and runs the world until the task has finished; returns its result, or
// nothing if the world went idle or `limit` passed first (the test has then failed; the task
// stays suspended and its frame leaks). Other coroutines may still be pending afterwards: end a
// test with world.RunUntilIdle() so that they finish too.
template <typename T>
std::optional<T> RunToCompletion(SimWorld& world, Env& env, Task<T> task,
                                 Duration limit = SimWorld::kRunLimitDefault) {
  // Shared with the frame, so that a task resumed after we gave up writes somewhere valid.
  auto slot = std::make_shared<std::optional<T>>();
  Spawn(env, detail::StoreSimResult(std::move(task), slot));
  world.RunUntil([&] { return slot->has_value(); }, limit);
  return std::move(*slot);
}

}  // namespace cerulean

// Adds the seed and its rerun line to every gtest failure in the enclosing scope.
#define SIM_SCOPED_SEED(seed) SCOPED_TRACE(::cerulean::SimSeedMessage(seed))
