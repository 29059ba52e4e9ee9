// BenchReport: the output convention of every `cerulean bench <suite>`: one JSON array with an
// object per measured case ({"suite","case","metric","value","unit","baseline":{"name","value"},
// "ratio","target"}), or a readable table. Baselines are measured in the same run.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cerulean::bench {

struct BenchCase {
  std::string suite;
  std::string name;    // "case"
  std::string metric;  // "p50_latency", "throughput", ...
  double value = 0;
  std::string unit;    // "us", "ops/s", "GB/s"
  std::string baseline_name;
  std::optional<double> baseline_value;
  // value / baseline, or baseline / value for metrics where lower is better (latency).
  std::optional<double> ratio;
  std::string target;  // "ratio <= 1.3", ">= 200000 ops/s"
};

class BenchReport {
 public:
  void Add(BenchCase bench_case) { cases_.push_back(std::move(bench_case)); }
  const std::vector<BenchCase>& cases() const { return cases_; }
  std::string ToJson() const;
  std::string ToTable() const;

 private:
  std::vector<BenchCase> cases_;
};

double Median(std::vector<double> values);
// The p-th percentile (0..100) of the samples, by nearest rank.
double Percentile(std::vector<double>& sorted_samples, double p);

}  // namespace cerulean::bench
