// Deadline: a cancel token that fires with DeadlineExceeded at a point in time, or with the
// parent's reason if the parent is cancelled first. Pass deadline.token() down to every call
// that may block. Single-threaded; must outlive the operations that hold its token.
#pragma once

#include "runtime/cancellation.h"
#include "runtime/env.h"

namespace cerulean {

class Deadline {
 public:
  Deadline(Env& env, TimePoint at, CancelToken parent = {});
  Deadline(Env& env, Duration timeout, CancelToken parent = {})
      : Deadline(env, env.Now() + timeout, parent) {}
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  CancelToken token() { return source_.token(); }
  TimePoint at() const { return at_; }
  bool expired() const { return source_.cancelled(); }

 private:
  Env& env_;
  TimePoint at_;
  CancelSource source_;
  Timer timer_;
  CancelToken parent_;
  CancelCallback parent_callback_;
};

}  // namespace cerulean
