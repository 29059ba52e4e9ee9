// NodeMemory: memory a same-host node offers its clients (shm::RegisterResponse), mapped
// read-only here: a storage node's read cache, whose hot records the client copies out itself
// instead of having the node copy them into the client's region. The node may reuse any of it
// at any time (it lends a record for a while, ExtentStoreOptions::cache_loan), so whatever
// is copied out of it is checked against its CRC after the copy. Move-only.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "base/result.h"
#include "shm/shm_messages.h"

namespace cerulean::shm {

class NodeMemory {
 public:
  // Maps what `offered` names, if its name starts with `name_prefix` and it is reachable from
  // here (shm/memfd_of.h).
  static Result<std::unique_ptr<NodeMemory>> Map(const RegisterResponse& offered, std::string_view name_prefix);
  ~NodeMemory();
  NodeMemory(const NodeMemory&) = delete;
  NodeMemory& operator=(const NodeMemory&) = delete;

  // `bytes` at `offset`, or null if that is not inside the memory.
  const std::byte* At(uint64_t offset, uint64_t bytes) const {
    return offset <= size_ && bytes <= size_ - offset ? base_ + offset : nullptr;
  }

 private:
  NodeMemory(const std::byte* base, size_t size) : base_(base), size_(size) {}
  const std::byte* base_;
  size_t size_;
};

}  // namespace cerulean::shm
