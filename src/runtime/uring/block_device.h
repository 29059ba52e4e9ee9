// The block device under a path, as sysfs describes it: where a storage node learns how large a
// direct write its disk takes whole, and (for benchmarks) which CPU takes its interrupts.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "runtime/env.h"

namespace cerulean {

// /sys/dev/block/<major>:<minor> of the device holding `path`, resolved (a partition's is under
// its disk's); nothing for file systems without one (tmpfs, overlay).
std::optional<std::filesystem::path> BlockDeviceSysfsPath(const std::string& path);

// The device's queue limits (max_sectors_kb, max_segments; a partition's come from its disk);
// the defaults of DeviceWriteLimits where they cannot be read.
DeviceWriteLimits ReadDeviceWriteLimits(const std::string& path);

}  // namespace cerulean
