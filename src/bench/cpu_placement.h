// Where benchmark threads go. A storage server is pinned to the CPU that takes its disk's
// completion interrupts, as a production node aligns its shards with its NVMe queues: otherwise
// every completion is a cross-CPU wakeup, which costs more than the I/O itself on a small VM.
// fio, unpinned, gets that placement from the scheduler.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cerulean::bench {

// The CPU that has handled the most interrupts of the block device holding `path`, found from
// /sys/dev/block and /proc/interrupts; nothing if that cannot be told (tmpfs, no such lines).
std::optional<int> DiskInterruptCpu(const std::string& path);

// `proc_interrupts` is the text of /proc/interrupts; `device_names` the names along the
// device's /sys path (e.g. "virtio1", "vda", "nvme0"). Interrupt lines whose name begins with one
// of them count for it. Split out for tests.
std::optional<int> BusiestCpuOf(const std::string& proc_interrupts, const std::vector<std::string>& device_names);

}  // namespace cerulean::bench
