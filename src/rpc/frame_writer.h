// FrameWriter: the single writer of a Stream. Callers queue frames (header, control message and
// payload iovecs that stay owned by the caller) and wait until their frame has been written;
// one writer task gathers every queued frame into one scatter-gather write, so that many small
// frames cost one system call. Not thread-safe: one loop.
#pragma once

#include <coroutine>
#include <optional>
#include <span>
#include <vector>

#include "rpc/frame.h"
#include "runtime/cancellation.h"
#include "runtime/env.h"
#include "runtime/event.h"
#include "runtime/intrusive_list.h"

namespace cerulean::rpc {

// A frame waiting to be written. Lives in the sender's coroutine frame until Send returns.
struct OutgoingFrame : IntrusiveListNode {
  std::byte header[kFrameHeaderBytes];
  std::span<const std::byte> message;
  std::span<const iovec> payload;

  // Filled by the writer.
  enum class State { kIdle, kQueued, kWriting, kDone } state = State::kIdle;
  Status status;
  std::coroutine_handle<> waiter;
  std::optional<CancelCallback> cancel_callback;
};

class FrameWriter {
 public:
  static constexpr size_t kIovecsPerWriteMax = 512;
  static constexpr size_t kBytesPerWriteMax = 8 << 20;

  FrameWriter(Env& env, Stream& stream);
  ~FrameWriter();

  // Queues `frame` and waits until it is written. If `cancel` fires while the frame is queued it
  // is dropped unsent; once its bytes have started to go out the stream is broken instead, since
  // a half-written frame cannot be taken back.
  Task<Status> Send(OutgoingFrame& frame, CancelToken cancel);

  // The writer task: runs until Fail() or a write error.
  Task<void> Run();
  // Fails every queued frame and every later Send with `reason`, and stops Run().
  void Fail(Status reason);
  bool failed() const { return !failure_.ok(); }

 private:
  struct SendAwaiter;
  void Complete(OutgoingFrame& frame, Status status);

  Env& env_;
  Stream& stream_;
  IntrusiveList<OutgoingFrame> queue_;
  std::vector<OutgoingFrame*> writing_;
  std::vector<iovec> iovecs_;
  Event wake_;
  CancelSource stop_;
  Status failure_;
};

}  // namespace cerulean::rpc
