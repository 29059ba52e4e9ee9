#include "runtime/task_group.h"

#include "runtime/spawn.h"

namespace cerulean {

void TaskGroup::Spawn(Task<void> task) {
  if (live_++ == 0) idle_.Reset();
  cerulean::Spawn(env_, Run(std::move(task)));
}

Task<void> TaskGroup::Run(Task<void> task) {
  co_await std::move(task);
  if (--live_ == 0) idle_.Set();
}

Task<void> TaskGroup::Join() {
  while (live_ > 0) {
    Status ignored = co_await idle_.Wait();
    (void)ignored;
  }
}

Task<Status> TaskGroup::JoinUntil(CancelToken cancel) {
  while (live_ > 0) {
    CO_RETURN_IF_ERROR(co_await idle_.Wait(cancel));
  }
  co_return Status::Ok();
}

}  // namespace cerulean
