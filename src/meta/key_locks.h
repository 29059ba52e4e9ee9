// KeyLocks: shared and exclusive locks on metadata keys, held across the awaits of a
// read-check-commit, so that two mutations of one object (or an object put and the delete of its
// container) never interleave. FIFO per key: a waiting exclusive lock holds back later shared
// ones. Entries exist only while a key is locked or awaited. One shard; not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "runtime/env.h"
#include "runtime/semaphore.h"
#include "runtime/task.h"

namespace cerulean::meta {

class KeyLocks {
 public:
  explicit KeyLocks(Env& env) : env_(env) {}
  KeyLocks(const KeyLocks&) = delete;
  KeyLocks& operator=(const KeyLocks&) = delete;

  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept : locks_(std::exchange(other.locks_, nullptr)), key_(std::move(other.key_)),
                                     permits_(other.permits_) {}
    Guard& operator=(Guard&& other) noexcept {
      if (this != &other) {
        Release();
        locks_ = std::exchange(other.locks_, nullptr);
        key_ = std::move(other.key_);
        permits_ = other.permits_;
      }
      return *this;
    }
    ~Guard() { Release(); }
    void Release();

   private:
    friend class KeyLocks;
    Guard(KeyLocks* locks, std::string key, size_t permits) : locks_(locks), key_(std::move(key)), permits_(permits) {}
    KeyLocks* locks_ = nullptr;
    std::string key_;
    size_t permits_ = 0;
  };

  Task<Guard> Shared(std::string key) { return Lock(std::move(key), 1); }
  Task<Guard> Exclusive(std::string key) { return Lock(std::move(key), kPermits); }
  size_t locked_keys() const { return entries_.size(); }

 private:
  static constexpr size_t kPermits = size_t{1} << 30;  // exclusive takes them all
  struct Entry {
    explicit Entry(Env& env) : semaphore(env, kPermits) {}
    Semaphore semaphore;
    size_t users = 0;  // holders and waiters
  };
  Task<Guard> Lock(std::string key, size_t permits);
  void Unlock(const std::string& key, size_t permits);

  Env& env_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

}  // namespace cerulean::meta
