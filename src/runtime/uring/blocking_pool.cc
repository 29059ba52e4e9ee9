#include "runtime/uring/blocking_pool.h"

#include <pthread.h>

namespace cerulean {

BlockingPool::BlockingPool(size_t threads) {
  for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { Work(); });
}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

BlockingPool& BlockingPool::Default() {
  // Four: enough that a slow job (a synced write) does not hold up another kind of work.
  static BlockingPool pool(4);
  return pool;
}

void BlockingPool::Submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  has_work_.notify_one();
}

void BlockingPool::Work() {
  pthread_setname_np(pthread_self(), "blocking");
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      has_work_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace cerulean
