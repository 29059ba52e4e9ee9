#include "runtime/cancellation.h"

namespace cerulean {

CancelCallback::CancelCallback(CancelToken token, Function function, void* context)
    : function_(function), context_(context) {
  if (token.source_ != nullptr && !token.source_->cancelled()) {
    token.source_->callbacks_.PushBack(this);
  }
}

CancelCallback::~CancelCallback() {
  if (linked()) IntrusiveList<CancelCallback>::Remove(this);
}

CancelSource::~CancelSource() {
  // Outstanding registrations just stop listening; their owners outlive nothing here.
  while (callbacks_.PopFront() != nullptr) {
  }
}

void CancelSource::Cancel(Status reason) {
  if (cancelled_) return;
  CHECK(!reason.ok()) << "cancel needs an error reason";
  cancelled_ = true;
  reason_ = std::move(reason);
  // Pop before calling: a callback may destroy other registrations.
  while (CancelCallback* callback = callbacks_.PopFront()) {
    callback->function_(callback->context_);
  }
}

}  // namespace cerulean
