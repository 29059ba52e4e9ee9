// SimInode: the bytes of one simulated file: the durable image (what survives a power loss), the
// live image (what reads see) and the changes made since the last sync, oldest first. Shared by
// its SimDisk's namespace and the SimFiles open on it; single-threaded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>

namespace cerulean {

class SimInode {
 public:
  // Unsynced changes kept before the oldest is written back, as a kernel flushes dirty pages.
  static constexpr size_t kUnsyncedChangesMax = 4096;

  struct Change {
    enum class Kind { kWrite, kTruncate };
    Kind kind = Kind::kWrite;
    uint64_t offset = 0;  // for kTruncate, the new length
    std::string bytes;    // for kWrite
    uint64_t id = 0;      // in order of logging
  };

  const std::string& live() const { return live_; }
  const std::string& durable() const { return durable_; }
  const std::deque<Change>& unsynced() const { return unsynced_; }
  uint64_t allocated_bytes() const { return allocated_bytes_; }
  void set_allocated_bytes(uint64_t bytes) { allocated_bytes_ = bytes; }
  // What the file occupies on the disk: its size, or its reservation if larger.
  uint64_t stored_bytes() const { return std::max<uint64_t>(live_.size(), allocated_bytes_); }

  // Applies to the live image and logs the change as unsynced; returns the change's id.
  uint64_t Write(uint64_t offset, std::string bytes);
  void Truncate(uint64_t length);
  // Makes the live image durable (fdatasync).
  void Sync();
  // Makes one logged write durable (RWF_DSYNC), with every size change and every write it
  // overlaps logged before it. Later and other earlier writes stay unsynced.
  void SyncWrite(uint64_t change_id);
  // Power loss, change by change: copies the first `byte_count` bytes of a write (a truncate:
  // the whole of it) into the durable image.
  void Persist(const Change& change, uint64_t byte_count);
  // Power loss, at the end: what was not persisted is gone.
  void DropUnsynced();
  // Flips one stored bit, in both images where they hold that byte.
  void FlipBit(uint64_t byte_offset, int bit);

 private:
  static void Apply(std::string& image, const Change& change, uint64_t byte_count);
  uint64_t Log(Change change);

  std::string live_;
  std::string durable_;
  std::deque<Change> unsynced_;
  uint64_t allocated_bytes_ = 0;
  uint64_t next_change_id_ = 1;
};

}  // namespace cerulean
