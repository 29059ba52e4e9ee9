#include "shm/node_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "base/check.h"

namespace cerulean::shm {
namespace {

TEST(NodeMemoryTest, MapsANodesMemfdReadOnlyAndBoundsEveryAccess) {
  const char* name = "cerulean-cache-00000000000000aa";
  const int fd = memfd_create(name, MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 1 << 20), 0);
  void* node_view = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ASSERT_NE(node_view, MAP_FAILED);
  const RegisterResponse offered{.bytes = 1 << 20, .pid = static_cast<uint32_t>(getpid()), .fd = fd, .name = name};
  auto mapped = NodeMemory::Map(offered, "cerulean-cache-");
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  std::memset(static_cast<char*>(node_view) + 8192, 0x5a, 100);
  const std::byte* at = (*mapped)->At(8192, 100);
  ASSERT_NE(at, nullptr);
  EXPECT_EQ(at[99], std::byte{0x5a}) << "the node's writes reach the client";
  // Read-only here: the client can never change the node's cache.
  std::ifstream maps("/proc/self/maps");
  std::string permissions;
  for (std::string line; std::getline(maps, line);) {
    if (std::stoull(line, nullptr, 16) == reinterpret_cast<uintptr_t>((*mapped)->At(0, 1))) {
      permissions = line.substr(line.find(' ') + 1, 4);
    }
  }
  EXPECT_EQ(permissions, "r--s");
  EXPECT_EQ((*mapped)->At((1 << 20) - 10, 11), nullptr);
  EXPECT_EQ((*mapped)->At(UINT64_MAX - 5, 10), nullptr);

  RegisterResponse other_name = offered;
  other_name.name = "cerulean-cache-00000000000000bb";  // another process's fd with this number
  EXPECT_EQ(NodeMemory::Map(other_name, "cerulean-cache-").status().code(), StatusCode::kFailedPrecondition);
  RegisterResponse too_big = offered;
  too_big.bytes = 2 << 20;
  EXPECT_EQ(NodeMemory::Map(too_big, "cerulean-cache-").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NodeMemory::Map(offered, "cerulean-shm-").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NodeMemory::Map(RegisterResponse{}, "").status().code(), StatusCode::kInvalidArgument);

  // The answer on the wire: empty is "nothing offered".
  rpc::MessageBuffer message = rpc::EncodeMessage(offered);
  auto decoded = DecodeRegisterResponse(message.span());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->name, name);
  EXPECT_EQ(decoded->bytes, 1u << 20);
  EXPECT_EQ(DecodeRegisterResponse({})->bytes, 0u);
  munmap(node_view, 1 << 20);
  close(fd);
}

}  // namespace
}  // namespace cerulean::shm
