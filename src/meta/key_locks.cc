#include "meta/key_locks.h"

namespace cerulean::meta {

void KeyLocks::Guard::Release() {
  if (locks_ == nullptr) return;
  locks_->Unlock(key_, permits_);
  locks_ = nullptr;
}

Task<KeyLocks::Guard> KeyLocks::Lock(std::string key, size_t permits) {
  auto [it, inserted] = entries_.try_emplace(key, nullptr);
  if (inserted) it->second = std::make_unique<Entry>(env_);
  Entry* entry = it->second.get();
  entry->users++;
  Status acquired = co_await entry->semaphore.Acquire({}, permits);
  CHECK(acquired.ok());  // no cancellation: a lock is held for a bounded read-check-commit
  co_return Guard(this, std::move(key), permits);
}

void KeyLocks::Unlock(const std::string& key, size_t permits) {
  auto it = entries_.find(key);
  CHECK(it != entries_.end()) << "unlock of a key that is not locked";
  it->second->semaphore.Release(permits);
  if (--it->second->users == 0) entries_.erase(it);
}

}  // namespace cerulean::meta
