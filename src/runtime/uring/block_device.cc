#include "runtime/uring/block_device.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <fstream>

namespace cerulean {
namespace {

std::optional<uint64_t> ReadNumber(const std::filesystem::path& file) {
  std::ifstream in(file);
  uint64_t value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::filesystem::path> BlockDeviceSysfsPath(const std::string& path) {
  struct stat status {};
  if (stat(path.c_str(), &status) != 0) return std::nullopt;
  std::error_code error;
  std::filesystem::path device = std::filesystem::canonical(
      "/sys/dev/block/" + std::to_string(major(status.st_dev)) + ":" + std::to_string(minor(status.st_dev)), error);
  if (error) return std::nullopt;
  return device;
}

DeviceWriteLimits ReadDeviceWriteLimits(const std::string& path) {
  DeviceWriteLimits limits;
  std::optional<std::filesystem::path> device = BlockDeviceSysfsPath(path);
  if (!device) return limits;
  std::filesystem::path queue = *device / "queue";
  if (!std::filesystem::exists(queue)) queue = device->parent_path() / "queue";  // a partition
  if (std::optional<uint64_t> kib = ReadNumber(queue / "max_sectors_kb"); kib && *kib >= 4) {
    limits.request_bytes_max = *kib << 10;
  }
  if (std::optional<uint64_t> segments = ReadNumber(queue / "max_segments"); segments && *segments >= 2) {
    limits.segments_max = std::min<uint64_t>(*segments, limits.segments_max);
  }
  return limits;
}

}  // namespace cerulean
