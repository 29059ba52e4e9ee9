#include "runtime/uring/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/check.h"

namespace cerulean {
namespace {

thread_local EventLoop* current_loop = nullptr;

// user_data of submissions whose completion nobody waits for (cancels, the wake read).
constexpr uint64_t kIgnoredUserData = 0;
constexpr uint64_t kWakeUserData = 1;

// All shards share one epoch so that their TimePoints compare.
const std::chrono::steady_clock::time_point kProcessEpoch = std::chrono::steady_clock::now();

}  // namespace

EventLoop* EventLoop::Current() { return current_loop; }

EventLoop::EventLoop(EventLoopOptions options)
    : poll_before_sleep_(options.poll_before_sleep), inbox_(options.inbox_capacity) {
  CHECK(current_loop == nullptr) << "one event loop per thread";
  io_uring_params params{};
  // COOP_TASKRUN: completions are not pushed by interrupting us; TASKRUN_FLAG: the kernel says
  // when some are waiting, so a busy loop can fetch them without blocking (see SubmitAndReap).
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  int result = io_uring_queue_init_params(options.ring_entries, &ring_, &params);
  if (result == -EINVAL) {  // older kernels lack those hints; they only save work
    params = {};
    result = io_uring_queue_init_params(options.ring_entries, &ring_, &params);
  }
  CHECK(result == 0) << "io_uring_queue_init: " << std::strerror(-result);
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  CHECK(wake_fd_ >= 0) << "eventfd: " << std::strerror(errno);
  current_loop = this;
}

EventLoop::~EventLoop() {
  // A thread inside Post may have published its message (and so let this loop finish) but not
  // yet woken it: wait until it has let go of the loop.
  while (posting_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  io_uring_queue_exit(&ring_);
  close(wake_fd_);
  if (current_loop == this) current_loop = nullptr;
}

TimePoint EventLoop::Now() const {
  const auto elapsed = std::chrono::steady_clock::now() - kProcessEpoch;
  return {std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()};
}

io_uring_sqe* EventLoop::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // The submission queue is full: hand it to the kernel to make room.
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  CHECK(sqe != nullptr) << "io_uring submission queue exhausted";
  return sqe;
}

void EventLoop::CancelIo(IoCompletion* completion) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(completion), 0);
  io_uring_sqe_set_data64(sqe, kIgnoredUserData);
}

bool EventLoop::Post(LoopMessage* message) {
  // TryPush publishes with a seq_cst store and Wake reads `sleeping_` with a seq_cst exchange;
  // the loop raises `sleeping_` and then checks the inbox, both seq_cst. So either the loop
  // sees the message before it sleeps, or we see it sleeping and wake it.
  posting_.fetch_add(1, std::memory_order_acq_rel);
  const bool pushed = inbox_.TryPush(message);
  if (pushed) Wake();
  posting_.fetch_sub(1, std::memory_order_release);
  return pushed;
}

void EventLoop::Wake() {
  // Only a sleeping loop needs the eventfd; the flag keeps busy loops free of syscalls.
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) {
    const uint64_t one = 1;
    ssize_t written = write(wake_fd_, &one, sizeof(one));
    (void)written;  // a full eventfd counter still wakes the loop
  }
}

void EventLoop::Run() {
  current_loop = this;
  while (!stopping_) RunOnce(/*may_block=*/true);
}

void EventLoop::RunOnce(bool may_block) {
  // Block first (only when idle), then run what woke up, so that a caller checking a condition
  // between turns sees the work of this turn.
  SubmitAndReap(may_block && ready_.empty() && !stopping_);
  FireTimers();
  DrainInbox();
  RunReady();
}

void EventLoop::RunReady() {
  // Bound the batch to what was ready on entry, so that I/O is reaped between batches.
  for (size_t count = ready_.size(); count > 0 && !ready_.empty(); count--) ready_.Pop().resume();
}

void EventLoop::FireTimers() {
  const TimePoint now = Now();
  while (Timer* timer = timers_.PopExpired(now)) timer->fire(timer);
}

void EventLoop::DrainInbox() {
  LoopMessage* message = nullptr;
  while (inbox_.TryPop(message)) message->run(message);
}

void EventLoop::ArmWakeRead() {
  if (wake_read_armed_) return;
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_value_, sizeof(wake_value_), 0);
  io_uring_sqe_set_data64(sqe, kWakeUserData);
  wake_read_armed_ = true;
}

bool EventLoop::PollBeforeSleep() {
  if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
  const TimePoint start = Now();
  const TimePoint until = std::min(start + poll_before_sleep_, timers_.NextDeadline());
  for (TimePoint now = start; now < until; now = Now()) {
    if (io_uring_cq_ready(&ring_) > 0 || (__atomic_load_n(ring_.sq.kflags, __ATOMIC_RELAXED) & IORING_SQ_TASKRUN) ||
        !inbox_.Empty()) {
      return true;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();  // spin politely: the sibling hyperthread keeps the core
#endif
  }
  return false;
}

void EventLoop::SubmitAndReap(bool may_block) {
  if (may_block && poll_before_sleep_ > Duration::zero() && PollBeforeSleep()) may_block = false;
  if (may_block) {
    ArmWakeRead();
    sleeping_.store(true, std::memory_order_seq_cst);
    // A message that arrived before the flag was raised would not have woken us: look again.
    if (!inbox_.Empty()) may_block = false;
  }
  io_uring_cqe* cqe = nullptr;
  if (may_block) {
    const TimePoint next = timers_.NextDeadline();
    if (next == TimePoint::Max()) {
      io_uring_submit_and_wait(&ring_, 1);
    } else {
      const Duration wait = next - Now();
      const int64_t wait_nanos = wait.count() > 0 ? wait.count() : 0;
      __kernel_timespec timeout{.tv_sec = wait_nanos / 1'000'000'000,
                                .tv_nsec = wait_nanos % 1'000'000'000};
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &timeout, nullptr);
    }
  } else if (io_uring_sq_ready(&ring_) > 0) {
    io_uring_submit(&ring_);
  } else if (__atomic_load_n(ring_.sq.kflags, __ATOMIC_RELAXED) & IORING_SQ_TASKRUN) {
    io_uring_get_events(&ring_);  // completions are waiting in the kernel for us to collect
  }
  sleeping_.store(false, std::memory_order_relaxed);

  // Resume each waiter as its completion is reaped; it may submit more work.
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    const uint64_t user_data = io_uring_cqe_get_data64(cqe);
    const int32_t result = cqe->res;
    const uint32_t flags = cqe->flags;
    io_uring_cqe_seen(&ring_, cqe);
    if (user_data == kIgnoredUserData) continue;
    if (user_data == kWakeUserData) {
      wake_read_armed_ = false;
      continue;
    }
    auto* completion = reinterpret_cast<IoCompletion*>(user_data);
    completion->result = result;
    completion->flags = flags;
    completion->handle.resume();
  }
}

}  // namespace cerulean
