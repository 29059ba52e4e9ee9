#include "rpc/frame_writer.h"

namespace cerulean::rpc {

FrameWriter::FrameWriter(Env& env, Stream& stream) : env_(env), stream_(stream), wake_(env) {
  writing_.reserve(kIovecsPerWriteMax);
  iovecs_.reserve(kIovecsPerWriteMax);
}

FrameWriter::~FrameWriter() { CHECK(queue_.empty() && writing_.empty()) << "frames still queued"; }

struct FrameWriter::SendAwaiter {
  FrameWriter& writer;
  OutgoingFrame& frame;
  CancelToken cancel;

  bool await_ready() const { return frame.state == OutgoingFrame::State::kDone; }
  void await_suspend(std::coroutine_handle<> handle) {
    frame.waiter = handle;
    frame.cancel_callback.emplace(cancel, [](void* self) {
      auto* awaiter = static_cast<SendAwaiter*>(self);
      OutgoingFrame& f = awaiter->frame;
      if (f.state == OutgoingFrame::State::kQueued) {
        IntrusiveList<OutgoingFrame>::Remove(&f);
        awaiter->writer.Complete(f, awaiter->cancel.reason());
      } else if (f.state == OutgoingFrame::State::kWriting) {
        // Break the stream; the write fails and completes this frame with an error.
        awaiter->writer.stream_.Shutdown();
      }
    }, this);
  }
  Status await_resume() {
    frame.cancel_callback.reset();
    // A write broken by our own cancellation reports the cancellation, not the broken pipe.
    if (!frame.status.ok() && cancel.cancelled()) return cancel.reason();
    return frame.status;
  }
};

Task<Status> FrameWriter::Send(OutgoingFrame& frame, CancelToken cancel) {
  if (failed()) co_return failure_;
  if (cancel.cancelled()) co_return cancel.reason();
  frame.state = OutgoingFrame::State::kQueued;
  frame.status = Status::Ok();
  queue_.PushBack(&frame);
  wake_.Set();
  co_return co_await SendAwaiter{*this, frame, cancel};
}

void FrameWriter::Complete(OutgoingFrame& frame, Status status) {
  frame.state = OutgoingFrame::State::kDone;
  frame.status = std::move(status);
  frame.cancel_callback.reset();
  if (frame.waiter) env_.Schedule(std::exchange(frame.waiter, {}));
}

void FrameWriter::Fail(Status reason) {
  if (failed()) return;
  failure_ = std::move(reason);
  while (OutgoingFrame* frame = queue_.PopFront()) Complete(*frame, failure_);
  stop_.Cancel(failure_);
}

Task<void> FrameWriter::Run() {
  while (!failed()) {
    if (queue_.empty()) {
      wake_.Reset();
      Status woken = co_await wake_.Wait(stop_.token());
      if (!woken.ok()) break;
      continue;
    }
    // Gather as many queued frames as fit in one write.
    size_t bytes = 0;
    iovecs_.clear();
    while (OutgoingFrame* frame = queue_.Front()) {
      const size_t needed = 2 + frame->payload.size();
      if (!writing_.empty() && (iovecs_.size() + needed > kIovecsPerWriteMax || bytes >= kBytesPerWriteMax)) break;
      queue_.PopFront();
      frame->state = OutgoingFrame::State::kWriting;
      writing_.push_back(frame);
      iovecs_.push_back({frame->header, kFrameHeaderBytes});
      bytes += kFrameHeaderBytes;
      if (!frame->message.empty()) {
        iovecs_.push_back({const_cast<std::byte*>(frame->message.data()), frame->message.size()});
        bytes += frame->message.size();
      }
      for (const iovec& part : frame->payload) {
        if (part.iov_len == 0) continue;
        iovecs_.push_back(part);
        bytes += part.iov_len;
      }
    }
    const Status written = co_await stream_.Write(iovecs_, stop_.token());
    for (OutgoingFrame* frame : writing_) Complete(*frame, written);
    writing_.clear();
    if (!written.ok()) Fail(written);
  }
}

}  // namespace cerulean::rpc
