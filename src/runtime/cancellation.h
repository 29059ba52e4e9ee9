// Cancellation: a CancelSource is fired once, with a reason, and every CancelToken taken from it
// sees that. Operations that can block take a CancelToken and register a CancelCallback that
// interrupts them (removes a waiter, submits an io_uring cancel, ...). A default CancelToken is
// never cancelled. Single-threaded: a source, its tokens and callbacks belong to one event loop.
#pragma once

#include "base/status.h"
#include "runtime/intrusive_list.h"

namespace cerulean {

class CancelSource;

class CancelToken {
 public:
  CancelToken() = default;
  bool cancelled() const;
  // Why it was cancelled: Cancelled, DeadlineExceeded, Unavailable (shutdown), ...
  Status reason() const;
  bool can_cancel() const { return source_ != nullptr; }

 private:
  friend class CancelSource;
  friend class CancelCallback;
  explicit CancelToken(CancelSource* source) : source_(source) {}
  CancelSource* source_ = nullptr;
};

// Registers `function(context)` to run when the token is cancelled; unregisters on destruction.
// If the token is already cancelled, the function is not called: check cancelled() first.
class CancelCallback : public IntrusiveListNode {
 public:
  using Function = void (*)(void* context);
  CancelCallback() = default;
  CancelCallback(CancelToken token, Function function, void* context);
  ~CancelCallback();
  CancelCallback(const CancelCallback&) = delete;
  CancelCallback& operator=(const CancelCallback&) = delete;

 private:
  friend class CancelSource;
  Function function_ = nullptr;
  void* context_ = nullptr;
};

class CancelSource {
 public:
  CancelSource() = default;
  ~CancelSource();
  CancelSource(const CancelSource&) = delete;
  CancelSource& operator=(const CancelSource&) = delete;

  CancelToken token() { return CancelToken(this); }
  bool cancelled() const { return cancelled_; }
  const Status& reason() const { return reason_; }
  // Fires once; later calls are ignored. Runs the registered callbacks synchronously.
  void Cancel(Status reason);

 private:
  friend class CancelCallback;
  bool cancelled_ = false;
  Status reason_;
  IntrusiveList<CancelCallback> callbacks_;
};

inline bool CancelToken::cancelled() const { return source_ != nullptr && source_->cancelled(); }
inline Status CancelToken::reason() const {
  return cancelled() ? source_->reason() : Status::Ok();
}

}  // namespace cerulean
