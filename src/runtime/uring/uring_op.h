// UringOp: the awaiter behind every io_uring operation. It fills one submission (through the
// `prepare` callable), suspends, and resumes with the kernel's result (a byte count or -errno).
// A cancel token, if it fires while the operation is in flight, asks the kernel to cancel it;
// the awaiter still waits for the completion, so buffers stay valid until the kernel is done.
#pragma once

#include <cerrno>
#include <coroutine>
#include <optional>

#include "runtime/cancellation.h"
#include "runtime/uring/event_loop.h"

namespace cerulean {

template <typename Prepare>
struct [[nodiscard]] UringOp {
  EventLoop& loop;
  CancelToken cancel;
  Prepare prepare;
  IoCompletion completion;
  std::optional<CancelCallback> cancel_callback;
  bool submitted = false;

  UringOp(EventLoop& l, CancelToken c, Prepare p) : loop(l), cancel(c), prepare(std::move(p)) {}

  bool await_ready() const { return cancel.cancelled(); }
  void await_suspend(std::coroutine_handle<> handle) {
    completion.handle = handle;
    io_uring_sqe* sqe = loop.GetSqe();
    prepare(sqe);
    io_uring_sqe_set_data(sqe, &completion);
    submitted = true;
    cancel_callback.emplace(cancel, [](void* self) {
      auto* op = static_cast<UringOp*>(self);
      op->loop.CancelIo(&op->completion);
    }, this);
  }
  // The kernel's result: >= 0 on success, -errno on failure (-ECANCELED when cancelled).
  int32_t await_resume() {
    cancel_callback.reset();
    return submitted ? completion.result : -ECANCELED;
  }
};

template <typename Prepare>
UringOp<Prepare> MakeUringOp(EventLoop& loop, CancelToken cancel, Prepare prepare) {
  return UringOp<Prepare>(loop, cancel, std::move(prepare));
}

}  // namespace cerulean
