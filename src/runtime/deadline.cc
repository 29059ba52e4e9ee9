#include "runtime/deadline.h"

#include <fmt/format.h>

namespace cerulean {

Deadline::Deadline(Env& env, TimePoint at, CancelToken parent)
    : env_(env),
      at_(at),
      parent_(parent),
      parent_callback_(parent, [](void* self) {
        auto* deadline = static_cast<Deadline*>(self);
        deadline->source_.Cancel(deadline->parent_.reason());
      }, this) {
  if (parent.cancelled()) {
    source_.Cancel(parent.reason());
    return;
  }
  if (at == TimePoint::Max()) return;
  timer_.deadline = at;
  timer_.context = this;
  timer_.fire = [](Timer* timer) {
    static_cast<Deadline*>(timer->context)->source_.Cancel(Status::DeadlineExceeded("deadline passed"));
  };
  env_.ArmTimer(timer_);
}

Deadline::~Deadline() { env_.DisarmTimer(timer_); }

}  // namespace cerulean
