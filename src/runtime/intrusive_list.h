// IntrusiveList: a doubly linked list of nodes embedded in their owners, so that waiters and
// callbacks can be queued without allocating. Not thread-safe.
#pragma once

#include "base/check.h"

namespace cerulean {

struct IntrusiveListNode {
  IntrusiveListNode* prev = nullptr;
  IntrusiveListNode* next = nullptr;
  bool linked() const { return prev != nullptr; }
};

template <typename T>  // T derives from IntrusiveListNode
class IntrusiveList {
 public:
  IntrusiveList() { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_.next == &head_; }

  void PushBack(T* item) {
    IntrusiveListNode* node = item;
    CHECK(!node->linked());
    node->prev = head_.prev;
    node->next = &head_;
    head_.prev->next = node;
    head_.prev = node;
  }

  T* PopFront() {
    if (empty()) return nullptr;
    IntrusiveListNode* node = head_.next;
    Remove(static_cast<T*>(node));
    return static_cast<T*>(node);
  }

  T* Front() { return empty() ? nullptr : static_cast<T*>(head_.next); }

  static void Remove(T* item) {
    IntrusiveListNode* node = item;
    CHECK(node->linked());
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
  }

 private:
  IntrusiveListNode head_;
};

}  // namespace cerulean
