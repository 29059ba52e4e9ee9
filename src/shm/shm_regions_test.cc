#include "shm/shm_regions.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "base/check.h"

namespace cerulean::shm {
namespace {

// A memfd of this process, named as clients name theirs.
struct Memfd {
  explicit Memfd(const char* name, size_t bytes) : fd(memfd_create(name, MFD_CLOEXEC)) {
    CHECK(fd >= 0 && ftruncate(fd, static_cast<off_t>(bytes)) == 0);
  }
  ~Memfd() { close(fd); }
  int fd;
};

TEST(ShmRegionsTest, MapsAClientsMemfdAndBoundsEveryAccess) {
  Memfd memfd("cerulean-shm-00000000000000aa", 1 << 20);
  void* client_view = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.fd, 0);
  ASSERT_NE(client_view, MAP_FAILED);
  ShmRegions regions;
  const RegisterRequest request{.region = 0xaa, .pid = static_cast<uint32_t>(getpid()), .fd = memfd.fd,
                                     .bytes = 1 << 20, .name = "cerulean-shm-00000000000000aa"};
  ASSERT_TRUE(regions.Register(request).ok());
  EXPECT_TRUE(regions.Register(request).ok()) << "a retried registration";
  EXPECT_EQ(regions.size(), 1u);
  auto region = regions.Find(0xaa);
  ASSERT_TRUE(region.ok());
  auto place = (*region)->At(4096, 100);
  ASSERT_TRUE(place.ok());
  std::memset(place->data(), 0x5a, 100);
  EXPECT_EQ(static_cast<unsigned char*>(client_view)[4096 + 99], 0x5a) << "the node's writes reach the client";
  EXPECT_EQ((*region)->At((1 << 20) - 10, 11).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*region)->At(UINT64_MAX - 5, 10).status().code(), StatusCode::kOutOfRange);
  regions.Unregister(0xaa);
  EXPECT_EQ(regions.Find(0xaa).status().code(), StatusCode::kNotFound);
  munmap(client_view, 1 << 20);
}

TEST(ShmRegionsTest, RefusesWhatIsNotThatMemfd) {
  Memfd memfd("cerulean-shm-00000000000000bb", 4096);
  ShmRegions regions;
  RegisterRequest request{.region = 0xbb, .pid = static_cast<uint32_t>(getpid()), .fd = memfd.fd,
                               .bytes = 4096, .name = "cerulean-shm-00000000000000bb"};
  RegisterRequest other_name = request;
  other_name.name = "cerulean-shm-00000000000000cc";  // as if another process's fd had this number
  EXPECT_EQ(regions.Register(other_name).code(), StatusCode::kFailedPrecondition);
  RegisterRequest no_such_fd = request;
  no_such_fd.fd = 100000;
  EXPECT_EQ(regions.Register(no_such_fd).code(), StatusCode::kFailedPrecondition);
  RegisterRequest too_big = request;
  too_big.bytes = 8192;
  EXPECT_EQ(regions.Register(too_big).code(), StatusCode::kInvalidArgument);
  RegisterRequest not_ours = request;
  not_ours.name = "something-else";
  EXPECT_EQ(regions.Register(not_ours).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(regions.size(), 0u);
}

}  // namespace
}  // namespace cerulean::shm
