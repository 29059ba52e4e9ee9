#include "kv/dram_tier.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/check.h"

namespace cerulean::kv {

uint64_t RecordBytes(uint32_t piece_count, uint64_t value_bytes) {
  const uint64_t bytes = sizeof(RecordHeader) + 4ull * piece_count + value_bytes;
  return (bytes + kRecordAlign - 1) / kRecordAlign * kRecordAlign;
}

DramTier::Hold::Hold(DramTier* tier, uint32_t first, uint32_t last) : tier_(tier), first_(first), last_(last) {
  for (uint32_t s = first_; s <= last_; s++) tier_->holds_[s]++;
}

DramTier::Hold& DramTier::Hold::operator=(Hold&& other) noexcept {
  if (this != &other) {
    Release();
    tier_ = std::exchange(other.tier_, nullptr);
    first_ = other.first_;
    last_ = other.last_;
  }
  return *this;
}

void DramTier::Hold::Release() {
  if (tier_ == nullptr) return;
  bool freed = false;
  for (uint32_t s = first_; s <= last_; s++) freed |= --tier_->holds_[s] == 0;
  DramTier* tier = std::exchange(tier_, nullptr);
  if (freed && tier->on_release_) tier->on_release_();
}

Result<std::unique_ptr<DramTier>> DramTier::Create(uint64_t capacity_bytes, uint64_t segment_bytes) {
  if (segment_bytes == 0 || segment_bytes % kRecordAlign != 0) {
    return Status::InvalidArgument(fmt::format("KV segment size {} is not a multiple of {}", segment_bytes, kRecordAlign));
  }
  const uint64_t capacity = capacity_bytes / segment_bytes * segment_bytes;
  if (capacity < 2 * segment_bytes) {
    return Status::InvalidArgument(fmt::format("KV DRAM tier of {} bytes holds fewer than two {}-byte segments",
                                               capacity_bytes, segment_bytes));
  }
  const int fd = memfd_create("cerulean-kv-dram", MFD_CLOEXEC);
  if (fd < 0) return Status::Internal(fmt::format("memfd_create: {}", std::strerror(errno)));
  if (ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    const int error = errno;
    close(fd);
    return Status::ResourceExhausted(fmt::format("KV DRAM tier of {} bytes: {}", capacity, std::strerror(error)));
  }
  void* arena = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (arena == MAP_FAILED) {
    const int error = errno;
    close(fd);
    return Status::ResourceExhausted(fmt::format("KV DRAM tier of {} bytes: mmap: {}", capacity, std::strerror(error)));
  }
  return std::unique_ptr<DramTier>(new DramTier(static_cast<std::byte*>(arena), fd, capacity, segment_bytes));
}

DramTier::DramTier(std::byte* arena, int memfd, uint64_t capacity, uint64_t segment_bytes)
    : arena_(arena), memfd_(memfd), capacity_(capacity), segment_bytes_(segment_bytes),
      holds_(capacity / segment_bytes, 0) {}

DramTier::~DramTier() {
  munmap(arena_, capacity_);
  close(memfd_);
}

bool DramTier::HasRoom(uint64_t bytes) const {
  const uint64_t to_wrap = capacity_ - head_ % capacity_;
  const uint64_t needed = bytes <= to_wrap ? bytes : to_wrap + bytes;
  return head_ + needed - tail_ <= capacity_;
}

uint64_t DramTier::Reserve(uint64_t bytes) {
  CHECK(HasRoom(bytes) && bytes % kRecordAlign == 0);
  const uint64_t to_wrap = capacity_ - head_ % capacity_;
  if (bytes > to_wrap) {
    // The rest of the arena before the wrap cannot hold the record: mark it as padding.
    auto* pad = reinterpret_cast<RecordHeader*>(At(head_));
    *pad = RecordHeader{};
    pad->magic = RecordHeader::kPadMagic;
    pad->record_bytes = static_cast<uint32_t>(to_wrap);
    head_ += to_wrap;
  }
  const uint64_t at = head_;
  head_ += bytes;
  return at;
}

uint64_t DramTier::TailSegmentEnd() {
  const uint64_t boundary = (tail_ / segment_bytes_ + 1) * segment_bytes_;
  uint64_t at = tail_;
  while (at < boundary && at < head_) at += HeaderAt(at).record_bytes;
  return at;
}

void DramTier::DropTail(uint64_t new_tail) {
  CHECK(new_tail >= tail_ && new_tail <= head_);
  CHECK(!Held(tail_, new_tail));
  tail_ = new_tail;
}

bool DramTier::Held(uint64_t from, uint64_t to) const {
  if (from >= to) return false;
  // Walk segment by segment; [from, to) may wrap the arena.
  for (uint64_t at = from / segment_bytes_ * segment_bytes_; at < to; at += segment_bytes_) {
    if (holds_[SegmentOf(at)] != 0) return true;
  }
  return false;
}

DramTier::Hold DramTier::Acquire(uint64_t logical, uint64_t bytes) {
  CHECK(bytes > 0 && logical >= tail_ && logical + bytes <= head_);
  return Hold(this, SegmentOf(logical), SegmentOf(logical + bytes - 1));
}

}  // namespace cerulean::kv
