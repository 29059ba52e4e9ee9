#include "base/metrics.h"

#include <cmath>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cerulean {
namespace {

TEST(CounterTest, IncrementsByOneOrByN) {
  Counter counter;
  EXPECT_EQ(counter.value(), 0u);
  counter.Increment();
  counter.Increment(41);
  EXPECT_EQ(counter.value(), 42u);
}

TEST(CounterTest, SitsOnItsOwnCacheLine) {
  EXPECT_EQ(alignof(Counter), kMetricAlignmentBytes);
  EXPECT_EQ(alignof(Gauge), kMetricAlignmentBytes);
  EXPECT_EQ(alignof(Histogram), kMetricAlignmentBytes);
}

TEST(CounterTest, ConcurrentIncrementsSumExactly) {
  constexpr uint64_t kIncrementsPerThread = 200'000;
  Counter counter;
  auto work = [&counter] {
    for (uint64_t i = 0; i < kIncrementsPerThread; ++i) counter.Increment();
  };
  std::thread first(work);
  std::thread second(work);
  first.join();
  second.join();
  EXPECT_EQ(counter.value(), 2 * kIncrementsPerThread);
}

TEST(GaugeTest, SetAndAdd) {
  Gauge gauge;
  EXPECT_EQ(gauge.value(), 0);
  gauge.Set(10);
  gauge.Add(-15);
  EXPECT_EQ(gauge.value(), -5);
  gauge.Add(7);
  EXPECT_EQ(gauge.value(), 2);
  gauge.Set(INT64_MIN);
  EXPECT_EQ(gauge.value(), INT64_MIN);
}

TEST(HistogramTest, BucketLayout) {
  EXPECT_EQ(Histogram::kFiniteBucketCount, 165u);
  EXPECT_EQ(Histogram::BucketUpperBound(Histogram::kFiniteBucketCount - 1), Histogram::kValueMax);
  EXPECT_EQ(Histogram::BucketUpperBound(Histogram::kOverflowBucket), UINT64_MAX);
  // The first bounds, as documented in the header.
  const uint64_t expected[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32};
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(Histogram::BucketUpperBound(i), expected[i]) << "bucket " << i;
  }
  // Each upper bound falls in its own bucket, and the next value in the next bucket.
  for (size_t i = 0; i < Histogram::kFiniteBucketCount; ++i) {
    const uint64_t upper_bound = Histogram::BucketUpperBound(i);
    EXPECT_EQ(Histogram::BucketIndex(upper_bound), i);
    EXPECT_EQ(Histogram::BucketIndex(upper_bound + 1), i + 1);
  }
  EXPECT_EQ(Histogram::BucketIndex(UINT64_MAX), Histogram::kOverflowBucket);
  static_assert(Histogram::BucketIndex(8) == 8);
  // One hour in nanoseconds is within range.
  EXPECT_LT(Histogram::BucketIndex(uint64_t{3600} * 1'000'000'000), Histogram::kOverflowBucket);
}

TEST(HistogramTest, UpperBoundOverstatesByLessThanAQuarter) {
  for (uint64_t value = 1; value <= Histogram::kValueMax; value = value * 9 / 8 + 1) {
    const uint64_t upper_bound = Histogram::BucketUpperBound(Histogram::BucketIndex(value));
    EXPECT_GE(upper_bound, value);
    EXPECT_LE(static_cast<double>(upper_bound), 1.25 * static_cast<double>(value)) << value;
  }
}

TEST(HistogramTest, CountAndSum) {
  Histogram histogram;
  EXPECT_EQ(histogram.count(), 0u);
  EXPECT_EQ(histogram.sum(), 0u);
  EXPECT_EQ(histogram.Percentile(50), 0u);
  for (uint64_t value : {0, 1, 7, 1000, 1'000'000}) histogram.Record(value);
  EXPECT_EQ(histogram.count(), 5u);
  EXPECT_EQ(histogram.sum(), 1'001'008u);
  const Histogram::Snapshot snapshot = histogram.TakeSnapshot();
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_EQ(snapshot.sum, 1'001'008u);
  EXPECT_EQ(snapshot.bucket_counts[0], 1u);
  EXPECT_EQ(snapshot.bucket_counts[Histogram::BucketIndex(1000)], 1u);
}

TEST(HistogramTest, PercentileIsWithinItsBucket) {
  Histogram histogram;
  constexpr uint64_t kValueCount = 10'000;
  for (uint64_t value = 1; value <= kValueCount; ++value) histogram.Record(value);
  for (double p : {0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const auto exact = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(kValueCount))));
    const uint64_t estimate = histogram.Percentile(p);
    EXPECT_GE(estimate, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(estimate), 1.25 * static_cast<double>(exact)) << "p" << p;
    EXPECT_EQ(estimate, Histogram::BucketUpperBound(Histogram::BucketIndex(exact))) << "p" << p;
  }
}

TEST(HistogramTest, OverflowSaturates) {
  Histogram histogram;
  histogram.Record(Histogram::kValueMax);
  EXPECT_EQ(histogram.Percentile(100), Histogram::kValueMax);
  histogram.Record(Histogram::kValueMax + 1);
  EXPECT_EQ(histogram.Percentile(100), UINT64_MAX);
  EXPECT_EQ(histogram.Percentile(50), Histogram::kValueMax);
}

TEST(HistogramTest, ConcurrentRecordsCountExactly) {
  constexpr uint64_t kRecordsPerThread = 100'000;
  Histogram histogram;
  auto work = [&histogram] {
    for (uint64_t i = 0; i < kRecordsPerThread; ++i) histogram.Record(i % 1000);
  };
  std::thread first(work);
  std::thread second(work);
  first.join();
  second.join();
  EXPECT_EQ(histogram.count(), 2 * kRecordsPerThread);
  EXPECT_EQ(histogram.sum(), 2 * (kRecordsPerThread / 1000) * (999 * 1000 / 2));
}

TEST(MetricsRegistryTest, SameNameAndLabelsIsTheSameMetric) {
  MetricsRegistry registry;
  Counter& counter = registry.GetCounter("requests_total", "Requests.", {{"b", "1"}, {"a", "2"}});
  // Label order does not matter; the help of later registrations is ignored.
  EXPECT_EQ(&registry.GetCounter("requests_total", "", {{"a", "2"}, {"b", "1"}}), &counter);
  EXPECT_NE(&registry.GetCounter("requests_total", "", {{"a", "3"}, {"b", "1"}}), &counter);
  EXPECT_NE(&registry.GetCounter("requests_total", ""), &counter);
  EXPECT_EQ(&registry.GetGauge("depth", ""), &registry.GetGauge("depth", ""));
  EXPECT_EQ(&registry.GetHistogram("latency_ns", ""), &registry.GetHistogram("latency_ns", ""));
}

TEST(MetricsRegistryTest, ReferencesStayValid) {
  MetricsRegistry registry;
  Counter& first = registry.GetCounter("first_total", "");
  first.Increment(5);
  for (int i = 0; i < 1000; ++i) {
    registry.GetCounter(fmt::format("other_{}_total", i), "", {{"shard", std::to_string(i)}});
  }
  EXPECT_EQ(&registry.GetCounter("first_total", ""), &first);
  EXPECT_EQ(first.value(), 5u);
}

TEST(MetricsRegistryTest, DefaultMetricsIsOneRegistry) {
  EXPECT_EQ(&DefaultMetrics(), &DefaultMetrics());
  Counter& counter = DefaultMetrics().GetCounter("metrics_test_default_total", "");
  counter.Increment();
  EXPECT_NE(DefaultMetrics().ExportPrometheusText().find("metrics_test_default_total 1\n"),
            std::string::npos);
}

TEST(MetricsRegistryTest, EmptyRegistryExportsNothing) {
  EXPECT_EQ(MetricsRegistry().ExportPrometheusText(), "");
}

TEST(MetricsRegistryTest, ExportCountersAndGauges) {
  MetricsRegistry registry;
  // Registered out of order: the export sorts families by name and series by labels.
  registry.GetCounter("rpc_requests_total", "Requests served.", {{"method", "read"}}).Increment(2);
  registry.GetCounter("rpc_requests_total", "", {{"method", "append"}}).Increment(3);
  registry.GetGauge("queue_depth", "Queued \\ waiting\nrequests.").Set(-4);
  registry.GetCounter("escapes_total", "Label escaping.", {{"path", "a\\b\"c\nd"}}).Increment();
  EXPECT_EQ(registry.ExportPrometheusText(),
            "# HELP escapes_total Label escaping.\n"
            "# TYPE escapes_total counter\n"
            "escapes_total{path=\"a\\\\b\\\"c\\nd\"} 1\n"
            "# HELP queue_depth Queued \\\\ waiting\\nrequests.\n"
            "# TYPE queue_depth gauge\n"
            "queue_depth -4\n"
            "# HELP rpc_requests_total Requests served.\n"
            "# TYPE rpc_requests_total counter\n"
            "rpc_requests_total{method=\"append\"} 3\n"
            "rpc_requests_total{method=\"read\"} 2\n");
}

TEST(MetricsRegistryTest, ExportHistogram) {
  MetricsRegistry registry;
  Histogram& histogram =
      registry.GetHistogram("append_latency_ns", "Append latency.", {{"disk", "0"}});
  for (uint64_t value : {0, 1, 3, 5, 100}) histogram.Record(value);
  const std::string text = registry.ExportPrometheusText();

  std::string expected =
      "# HELP append_latency_ns Append latency.\n"
      "# TYPE append_latency_ns histogram\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"1\"} 2\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"2\"} 2\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"4\"} 3\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"8\"} 4\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"16\"} 4\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"32\"} 4\n"
      "append_latency_ns_bucket{disk=\"0\",le=\"64\"} 4\n";
  for (uint32_t exponent = 7; exponent <= Histogram::kExponentMax; ++exponent) {
    expected += fmt::format("append_latency_ns_bucket{{disk=\"0\",le=\"{}\"}} 5\n",
                            uint64_t{1} << exponent);
  }
  expected +=
      "append_latency_ns_bucket{disk=\"0\",le=\"+Inf\"} 5\n"
      "append_latency_ns_sum{disk=\"0\"} 109\n"
      "append_latency_ns_count{disk=\"0\"} 5\n";
  EXPECT_EQ(text, expected);
}

TEST(MetricsRegistryTest, ExportHistogramWithoutLabels) {
  MetricsRegistry registry;
  registry.GetHistogram("size_bytes", "Sizes.").Record(Histogram::kValueMax + 1);
  const std::string text = registry.ExportPrometheusText();
  EXPECT_NE(text.find("size_bytes_bucket{le=\"1\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size_bytes_bucket{le=\"4398046511104\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size_bytes_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size_bytes_sum 4398046511105\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size_bytes_count 1\n"), std::string::npos) << text;
}

class MetricsRegistryDeathTest : public testing::Test {
 protected:
  // Other tests in this binary start threads; fork-and-reexec keeps the child clean.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MetricsRegistryDeathTest, SameNameAsAnotherTypeFails) {
  MetricsRegistry registry;
  registry.GetCounter("requests_total", "");
  EXPECT_DEATH(registry.GetGauge("requests_total", ""), "registered again as a gauge");
  EXPECT_DEATH(registry.GetHistogram("requests_total", ""), "registered again as a histogram");
}

TEST_F(MetricsRegistryDeathTest, InvalidNamesFail) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.GetCounter("", ""), "invalid metric name");
  EXPECT_DEATH(registry.GetCounter("9lives_total", ""), "invalid metric name");
  EXPECT_DEATH(registry.GetCounter("requests-total", ""), "invalid metric name");
  EXPECT_DEATH(registry.GetCounter("ok_total", "", {{"bad-key", "v"}}), "invalid label name");
  EXPECT_DEATH(registry.GetCounter("ok_total", "", {{"__reserved", "v"}}), "invalid label name");
  EXPECT_DEATH(registry.GetCounter("ok_total", "", {{"k", "1"}, {"k", "2"}}), "repeated label");
  EXPECT_DEATH(registry.GetHistogram("ok_ns", "", {{"le", "1"}}), "reserved label le");
  // Colons are allowed in metric names (recording rules use them).
  registry.GetCounter("job:requests:rate_total", "", {{"_private", "v"}});
}

}  // namespace
}  // namespace cerulean
