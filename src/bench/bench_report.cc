#include "bench/bench_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cerulean::bench {

std::string BenchReport::ToJson() const {
  nlohmann::json array = nlohmann::json::array();
  for (const BenchCase& c : cases_) {
    nlohmann::json object = {{"suite", c.suite}, {"case", c.name}, {"metric", c.metric},
                             {"value", c.value}, {"unit", c.unit}};
    object["baseline"] = c.baseline_value
                             ? nlohmann::json{{"name", c.baseline_name}, {"value", *c.baseline_value}}
                             : nlohmann::json(nullptr);
    object["ratio"] = c.ratio ? nlohmann::json(*c.ratio) : nlohmann::json(nullptr);
    object["target"] = c.target;
    array.push_back(std::move(object));
  }
  return array.dump(2);
}

std::string BenchReport::ToTable() const {
  std::string out = fmt::format("{:<34} {:<14} {:>14} {:<6} {:>24} {:>7}  {}\n", "case", "metric",
                                "value", "unit", "baseline", "ratio", "target");
  for (const BenchCase& c : cases_) {
    const std::string baseline =
        c.baseline_value ? fmt::format("{} {:.4g}", c.baseline_name, *c.baseline_value) : "-";
    const std::string ratio = c.ratio ? fmt::format("{:.3f}", *c.ratio) : "-";
    out += fmt::format("{:<34} {:<14} {:>14.4g} {:<6} {:>24} {:>7}  {}\n", c.name, c.metric, c.value,
                       c.unit, baseline, ratio, c.target);
  }
  return out;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double Percentile(std::vector<double>& sorted_samples, double p) {
  if (sorted_samples.empty()) return 0;
  // p * n / 100 in that order, less a hair: 99.9 / 100 * 1000 is 999.0000000000001 in binary.
  const double rank = std::ceil(p * static_cast<double>(sorted_samples.size()) / 100.0 - 1e-9);
  const size_t index = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted_samples.size()))) - 1;
  return sorted_samples[index];
}

}  // namespace cerulean::bench
