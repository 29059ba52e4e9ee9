#include "bench/cpu_placement.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/uring/block_device.h"

namespace cerulean::bench {

std::optional<int> BusiestCpuOf(const std::string& proc_interrupts, const std::vector<std::string>& device_names) {
  std::istringstream lines(proc_interrupts);
  std::string line;
  if (!std::getline(lines, line)) return std::nullopt;
  size_t cpus = 0;  // the header names one column per CPU
  {
    std::istringstream header(line);
    for (std::string word; header >> word;) cpus += word.starts_with("CPU");
  }
  std::vector<uint64_t> totals(cpus, 0);
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string irq;
    fields >> irq;
    std::vector<uint64_t> counts;
    for (size_t cpu = 0; cpu < cpus; cpu++) {
      uint64_t count = 0;
      if (!(fields >> count)) break;
      counts.push_back(count);
    }
    if (counts.size() != cpus) continue;  // a summary line (ERR, MIS)
    std::string name;
    for (std::string word; fields >> word;) name = word;  // the last field names the source
    bool ours = false;
    for (const std::string& device : device_names) {
      // "virtio1-req.0" for virtio1, "nvme0q3" for nvme0.
      if (name.starts_with(device) && name.size() > device.size() &&
          (name[device.size()] == '-' || name[device.size()] == 'q')) {
        ours = true;
      }
    }
    if (!ours) continue;
    for (size_t cpu = 0; cpu < cpus; cpu++) totals[cpu] += counts[cpu];
  }
  size_t busiest = 0;
  for (size_t cpu = 1; cpu < cpus; cpu++) {
    if (totals[cpu] > totals[busiest]) busiest = cpu;
  }
  if (cpus == 0 || totals[busiest] == 0) return std::nullopt;
  return static_cast<int>(busiest);
}

std::optional<int> DiskInterruptCpu(const std::string& path) {
  std::optional<std::filesystem::path> device = BlockDeviceSysfsPath(path);
  if (!device) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& part : *device) names.push_back(part.string());
  std::ifstream file("/proc/interrupts");
  std::stringstream text;
  text << file.rdbuf();
  return BusiestCpuOf(text.str(), names);
}

}  // namespace cerulean::bench
