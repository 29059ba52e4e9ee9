#include "bench/fio_baseline.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cerulean::bench {

std::optional<FioResult> RunFio(const FioJob& job) {
  if (std::system("command -v fio >/dev/null 2>&1") != 0) return std::nullopt;
  const int seconds = std::max<int>(1, static_cast<int>(ToMillis(job.runtime) / 1000));
  std::string command = fmt::format(
      "fio --name=baseline --filename={}/fio-baseline.dat --rw={} --bs={} --size={} --iodepth={} "
      "--runtime={} --ramp_time={} --output-format=json --group_reporting {}",
      job.directory, job.pattern, job.block_bytes, job.file_bytes, job.iodepth, seconds, ToMillis(job.ramp) / 1000,
      job.fresh_file ? "--fallocate=native" : "--time_based");
  if (job.fdatasync_each_write) {
    command += " --ioengine=psync --fdatasync=1 --direct=1";
  } else {
    command += " --ioengine=io_uring --direct=1";
  }
  if (job.core >= 0) command += fmt::format(" --cpus_allowed={}", job.core);
  command += " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe.get())) output.append(buffer, n);
  const size_t start = output.find('{');  // fio may print notes before the JSON
  if (start == std::string::npos) return std::nullopt;
  auto json = nlohmann::json::parse(output.substr(start), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.contains("jobs") || json["jobs"].empty()) return std::nullopt;
  const auto& result = json["jobs"][0][job.pattern.find("read") != std::string::npos ? "read" : "write"];
  FioResult fio;
  fio.iops = result.value("iops", 0.0);
  fio.bytes_per_second = result.value("bw_bytes", 0.0);
  if (result.contains("clat_ns") && result["clat_ns"].contains("percentile")) {
    fio.p50_latency_us = result["clat_ns"]["percentile"].value("50.000000", 0.0) / 1000.0;
  }
  std::remove(fmt::format("{}/fio-baseline.dat", job.directory).c_str());
  return fio;
}

uint64_t FreshWriteFileBytes(const std::string& directory) {
  std::error_code error;
  const std::filesystem::space_info space = std::filesystem::space(directory, error);
  const uint64_t third = error ? 0 : space.available / 3;
  return std::clamp<uint64_t>(third, 1ull << 30, 32ull << 30) & ~((1ull << 20) - 1);
}

}  // namespace cerulean::bench
