// DramTier: the memory tier of a node's KV cache: one arena used as a circular log of records.
// Records are appended at the head and leave from the tail a segment at a time (oldest first);
// the store decides which of a leaving segment's records survive (pinned, leased, or read
// since their last chance) and appends those again at the head. There is no allocator and no
// fragmentation: a record's space comes back when its segment leaves, and at most one record's
// worth is lost where the log wraps. The arena is a memfd so that a same-host client can map it
// (docs/formats/kv_record.md).
//
// Readers (responses being sent straight from the arena) hold the segments they read; a
// segment leaves only when no one holds it. Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "kv/kv_key.h"

namespace cerulean::kv {

// At the start of every record, 64-byte aligned.
struct RecordHeader {
  uint32_t magic = 0;         // kRecordMagic, or kPadMagic for the unused end before a wrap
  uint32_t record_bytes = 0;  // header, piece table, value and padding to 64 bytes
  uint32_t ns = 0;
  uint32_t value_bytes = 0;
  uint32_t piece_count = 0;
  uint32_t value_crc = 0;     // CRC32C of the whole value
  uint8_t key[32] = {};
  uint32_t header_crc = 0;    // CRC32C of the bytes above
  uint32_t reserved = 0;

  static constexpr uint32_t kRecordMagic = 0x4B565231;  // "KVR1"
  static constexpr uint32_t kPadMagic = 0x4B565050;     // "KVPP"
};
static_assert(sizeof(RecordHeader) == 64);

constexpr uint64_t kRecordAlign = 64;
// The bytes of a record with this many pieces and value bytes.
uint64_t RecordBytes(uint32_t piece_count, uint64_t value_bytes);

class DramTier {
 public:
  // Holds segments [first, last] against leaving while a reader uses them.
  class Hold {
   public:
    Hold() = default;
    Hold(DramTier* tier, uint32_t first, uint32_t last);
    Hold(Hold&& other) noexcept { *this = std::move(other); }
    Hold& operator=(Hold&& other) noexcept;
    ~Hold() { Release(); }
    void Release();

   private:
    DramTier* tier_ = nullptr;
    uint32_t first_ = 0, last_ = 0;
  };

  // `capacity_bytes` is rounded down to whole segments.
  static Result<std::unique_ptr<DramTier>> Create(uint64_t capacity_bytes, uint64_t segment_bytes);
  ~DramTier();

  uint64_t capacity() const { return capacity_; }
  uint64_t segment_bytes() const { return segment_bytes_; }
  uint64_t used_bytes() const { return head_ - tail_; }
  uint64_t head() const { return head_; }
  uint64_t tail() const { return tail_; }
  int memfd() const { return memfd_; }

  // Whether `bytes` (a record's) can be appended now, counting the skip to the wrap if needed.
  bool HasRoom(uint64_t bytes) const;
  // Space for a record of `bytes` at the head: its logical offset. HasRoom must be true.
  uint64_t Reserve(uint64_t bytes);
  std::byte* At(uint64_t logical) { return arena_ + logical % capacity_; }
  const RecordHeader& HeaderAt(uint64_t logical) { return *reinterpret_cast<const RecordHeader*>(At(logical)); }

  // Where the records that start in the tail segment end: the tail leaves up to there.
  uint64_t TailSegmentEnd();
  // Drops [tail, new_tail); the caller has dealt with its records and no one holds it.
  void DropTail(uint64_t new_tail);
  bool Held(uint64_t from, uint64_t to) const;
  Hold Acquire(uint64_t logical, uint64_t bytes);
  // Called when the last hold on a segment goes (the store wakes a waiting eviction).
  void set_on_release(std::function<void()> callback) { on_release_ = std::move(callback); }

 private:
  DramTier(std::byte* arena, int memfd, uint64_t capacity, uint64_t segment_bytes);
  uint32_t SegmentOf(uint64_t logical) const { return static_cast<uint32_t>(logical % capacity_ / segment_bytes_); }

  std::byte* arena_;
  int memfd_;
  uint64_t capacity_;
  uint64_t segment_bytes_;
  uint64_t head_ = 0;  // logical offsets only grow; physical = logical % capacity
  uint64_t tail_ = 0;
  std::vector<uint32_t> holds_;  // per segment
  std::function<void()> on_release_;
};

}  // namespace cerulean::kv
