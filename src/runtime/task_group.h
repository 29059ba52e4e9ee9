// TaskGroup: spawns tasks and lets an owner wait until all of them have finished, so that the
// owner (a server, a connection) can shut down without leaving tasks that point into it.
// Single-threaded: one loop.
#pragma once

#include <cstddef>

#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/task.h"

namespace cerulean {

class TaskGroup {
 public:
  explicit TaskGroup(Env& env) : env_(env), idle_(env) { idle_.Set(); }
  ~TaskGroup() { CHECK(live_ == 0) << live_ << " tasks still running; Join() first"; }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void Spawn(Task<void> task);
  // Completes when no task of the group is running.
  Task<void> Join();
  // The same, or the token's reason if it fires first (the tasks keep running).
  Task<Status> JoinUntil(CancelToken cancel);
  size_t live() const { return live_; }

 private:
  Task<void> Run(Task<void> task);

  Env& env_;
  Event idle_;
  size_t live_ = 0;
};

}  // namespace cerulean
