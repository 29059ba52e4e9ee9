#include "bench/bench_report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace cerulean::bench {
namespace {

TEST(BenchReportTest, JsonFollowsTheConvention) {
  BenchReport report;
  report.Add({.suite = "rpc", .name = "ping", .metric = "p50_latency", .value = 20, .unit = "us",
              .baseline_name = "raw", .baseline_value = 16, .ratio = 1.25, .target = "ratio <= 1.3"});
  report.Add({.suite = "rpc", .name = "alone", .metric = "throughput", .value = 5, .unit = "GB/s"});
  auto json = nlohmann::json::parse(report.ToJson());
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  for (const char* key : {"suite", "case", "metric", "value", "unit", "baseline", "ratio", "target"}) {
    EXPECT_TRUE(json[0].contains(key)) << key;
  }
  EXPECT_EQ(json[0]["baseline"]["name"], "raw");
  EXPECT_EQ(json[0]["baseline"]["value"], 16);
  EXPECT_TRUE(json[1]["baseline"].is_null());
  EXPECT_NE(report.ToTable().find("p50_latency"), std::string::npos);
}

TEST(BenchReportTest, MedianAndPercentile) {
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 2, 3}), 2.5);
  std::vector<double> samples;
  for (int i = 1; i <= 1000; i++) samples.push_back(i);
  EXPECT_EQ(Percentile(samples, 50), 500);
  EXPECT_EQ(Percentile(samples, 99), 990);
  EXPECT_EQ(Percentile(samples, 99.9), 999);
  EXPECT_EQ(Percentile(samples, 100), 1000);
}

}  // namespace
}  // namespace cerulean::bench
