#include "runtime/uring/shard_set.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>

#include "base/logging.h"

namespace cerulean {
namespace {

thread_local size_t current_shard = SIZE_MAX;

struct PostedStart {
  LoopMessage message;
  std::function<Task<void>(Env& env)> start;
  Env* env;
};

// Keeps the posted function (and so a coroutine lambda's captures) alive until its task ends.
Task<void> RunPosted(std::unique_ptr<PostedStart> posted) { co_await posted->start(*posted->env); }

}  // namespace

size_t ShardSet::CurrentShard() { return current_shard; }

ShardSet::ShardSet(ShardSetOptions options) : options_(options) {
  CHECK(options_.shard_count >= 1);
  std::atomic<int> started{0};
  for (size_t i = 0; i < options_.shard_count; i++) shards_.push_back(std::make_unique<Shard>());
  for (size_t i = 0; i < options_.shard_count; i++) {
    shards_[i]->thread = std::thread([this, i, &started] { RunShard(i, &started); });
  }
  // Loops are created on their own threads (io_uring's single-issuer rule); wait for them.
  while (started.load(std::memory_order_acquire) < static_cast<int>(options_.shard_count)) {
    std::this_thread::yield();
  }
}

ShardSet::~ShardSet() { Stop(); }

void ShardSet::RunShard(size_t index, std::atomic<int>* started) {
  current_shard = index;
  pthread_setname_np(pthread_self(), ("shard-" + std::to_string(index)).c_str());
  if (options_.pin_to_cores) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((options_.first_core + index) % cores, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
  Shard& shard = *shards_[index];
  shard.loop = std::make_unique<EventLoop>(options_.loop);
  shard.env = std::make_unique<UringEnv>(*shard.loop);
  started->fetch_add(1, std::memory_order_release);
  shard.loop->Run();
  // Give tasks woken by the stop a last chance to finish their current step.
  for (int turn = 0; turn < 16; turn++) shard.loop->RunOnce(/*may_block=*/false);
  // The loop and env are destroyed by ~ShardSet after the join: another thread may still be
  // inside Post()/Wake() on this loop right now.
}

void ShardSet::Post(size_t shard, std::function<Task<void>(Env& env)> start) {
  CHECK(shard < shards_.size());
  // A shard spinning on a full inbox (perhaps its own) would never drain it: use Call there.
  CHECK(CurrentShard() == SIZE_MAX) << "ShardSet::Post from a shard thread";
  auto* posted = new PostedStart{{}, std::move(start), shards_[shard]->env.get()};
  posted->message.run = [](LoopMessage* message) {
    std::unique_ptr<PostedStart> owned(reinterpret_cast<PostedStart*>(message));
    Env& env = *owned->env;
    Spawn(env, RunPosted(std::move(owned)));
  };
  while (!shards_[shard]->loop->Post(&posted->message)) std::this_thread::yield();
}

void ShardSet::Stop() {
  CHECK(CurrentShard() == SIZE_MAX) << "ShardSet::Stop from a shard thread would join itself";
  if (stopped_) return;
  stopped_ = true;
  struct StopMessage {
    LoopMessage message;
    EventLoop* loop;
  };
  std::vector<StopMessage> stops(shards_.size());
  for (size_t i = 0; i < shards_.size(); i++) {
    stops[i].loop = shards_[i]->loop.get();
    stops[i].message.run = [](LoopMessage* message) {
      reinterpret_cast<StopMessage*>(message)->loop->Stop();
    };
    while (!shards_[i]->loop->Post(&stops[i].message)) std::this_thread::yield();
  }
  for (auto& shard : shards_) shard->thread.join();
}

}  // namespace cerulean
