// MeasureRate: the timed loop every throughput case shares. `workers` copies of `step(worker)`
// run back to back for a warm-up tenth of `duration`, then for `duration`; the result is
// completed steps per second over the measured part. A failed step fails the benchmark loudly.
#pragma once

#include <cstdint>

#include "base/check.h"
#include "runtime/env.h"
#include "runtime/sleep.h"
#include "runtime/task_group.h"

namespace cerulean::bench {

template <typename Step>  // Step: Task<Status>(size_t worker), copyable
Task<double> MeasureRate(Env& env, size_t workers, Duration duration, Step step) {
  bool measuring = false;
  bool stopping = false;
  uint64_t completed = 0;
  TaskGroup group(env);
  for (size_t w = 0; w < workers; w++) {
    group.Spawn([](Step s, size_t worker, bool* counting, bool* stop, uint64_t* done) -> Task<void> {
      while (!*stop) {
        Status status = co_await s(worker);
        CHECK(status.ok()) << status;
        if (*counting) (*done)++;
      }
    }(step, w, &measuring, &stopping, &completed));
  }
  Status slept = co_await Sleep(env, duration / 10);
  CHECK(slept.ok());
  measuring = true;
  const TimePoint start = env.Now();
  slept = co_await Sleep(env, duration);
  CHECK(slept.ok());
  measuring = false;
  const double seconds = static_cast<double>((env.Now() - start).count()) / 1e9;
  stopping = true;
  co_await group.Join();
  co_return static_cast<double>(completed) / seconds;
}

}  // namespace cerulean::bench
