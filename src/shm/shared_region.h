// SharedRegion: memory a client shares with the storage nodes on its host: a memfd, mapped
// here and, once registered, by each same-host node (shm/shm_regions.h). KV values a get asks
// for are copied into it by the node, and values a put names are copied out of it; object reads
// land in it from the node's disk. No socket carries those bytes. Move-only; unmapped and closed when destroyed (a node's mapping keeps the
// memory until the node unmaps it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "shm/shm_messages.h"

namespace cerulean::shm {

class SharedRegion {
 public:
  // `bytes` of zeroed shared memory; `id` names it to nodes.
  static Result<std::unique_ptr<SharedRegion>> Create(uint64_t id, size_t bytes);
  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  uint64_t id() const { return id_; }
  std::span<std::byte> bytes() const { return {base_, size_}; }
  // Where `span` starts in the region, if it lies wholly inside it.
  std::optional<uint64_t> OffsetOf(std::span<const std::byte> span) const;
  // What a node needs to map it.
  RegisterRequest Registration() const;

 private:
  SharedRegion(uint64_t id, int fd, std::byte* base, size_t size, std::string name)
      : id_(id), fd_(fd), base_(base), size_(size), name_(std::move(name)) {}

  uint64_t id_;
  int fd_;
  std::byte* base_;
  size_t size_;
  std::string name_;
};

}  // namespace cerulean::shm
