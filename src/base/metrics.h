// Metrics: counters, gauges and latency/size histograms, kept in a MetricsRegistry that renders
// them as Prometheus text. Counter, Gauge and Histogram are thread-safe and lock-free (any shard
// may update any metric); MetricsRegistry is thread-safe, and registration takes a mutex.
//
// Metrics never read a clock: a caller that measures a latency takes two TimePoints from its
// Env and records the difference, so simulated runs record simulated time:
//   const TimePoint start = env.Now();
//   ...
//   append_latency.Record(static_cast<uint64_t>((env.Now() - start).count()));
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cerulean {

// Key/value pairs that tell apart the series of one metric, e.g. {{"method", "append"}}. The
// registry sorts them by key, so the order given at registration does not matter.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Every metric object sits on its own cache lines, so that shards updating different metrics do
// not slow each other down through false sharing.
inline constexpr size_t kMetricAlignmentBytes = 64;

// A count that only goes up: requests served, bytes written. Register its name with the
// conventional `_total` suffix ("rpc_requests_total"); the registry exports names as given.
class alignas(kMetricAlignmentBytes) Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  // Relaxed: a metric orders nothing else; readers only need an eventually exact total.
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down: queue depth, open connections, free bytes.
class alignas(kMetricAlignmentBytes) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A distribution of non-negative integers (latencies in nanoseconds, sizes in bytes) in fixed
// log-linear buckets: each power-of-two range (2^k, 2^(k+1)] is split into 4 equal buckets, so a
// bucket's upper bound overstates any value in it by less than 25%. The bucket upper bounds run
// 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, ... up to kValueMax = 2^42 (73 minutes in
// nanoseconds); larger values land in one overflow bucket.
class alignas(kMetricAlignmentBytes) Histogram {
 public:
  static constexpr uint32_t kSubBucketBits = 2;
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;
  // Values above 2^kExponentMax count as overflow.
  static constexpr uint32_t kExponentMax = 42;
  static constexpr uint64_t kValueMax = uint64_t{1} << kExponentMax;
  // Bucket 0 holds zero; buckets 1..4 hold 1..4 exactly; then 4 buckets per power of two from
  // (4, 8] to (2^41, 2^42]; the last bucket is the overflow.
  static constexpr size_t kFiniteBucketCount =
      1 + kSubBucketCount + (kExponentMax - kSubBucketBits) * kSubBucketCount;
  static constexpr size_t kBucketCount = kFiniteBucketCount + 1;
  static constexpr size_t kOverflowBucket = kBucketCount - 1;

  // The counts of one moment, for percentiles and export. `count` is the sum of
  // `bucket_counts`, so the two always agree even while other threads record.
  struct Snapshot {
    std::array<uint64_t, kBucketCount> bucket_counts{};
    uint64_t count = 0;
    uint64_t sum = 0;

    // The upper bound of the bucket that holds the p-th percentile (0 <= p <= 100), so the true
    // value is at most the result and at least 80% of it. 0 for an empty histogram;
    // UINT64_MAX when the percentile falls in the overflow bucket.
    uint64_t Percentile(double p) const;
  };

  Histogram() = default;
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Two relaxed atomic adds; no locks, no allocation.
  void Record(uint64_t value) {
    bucket_counts_[BucketIndex(value)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  uint64_t count() const;
  uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Percentile(double p) const { return TakeSnapshot().Percentile(p); }
  Snapshot TakeSnapshot() const;

  static constexpr size_t BucketIndex(uint64_t value);
  // The largest value that falls in bucket `index` (inclusive, like Prometheus `le`);
  // UINT64_MAX for the overflow bucket.
  static constexpr uint64_t BucketUpperBound(size_t index);

 private:
  // Bucket counts only; the count is their sum, which saves an atomic add per Record.
  std::array<std::atomic<uint64_t>, kBucketCount> bucket_counts_{};
  // The sum wraps after 2^64 (584 years of nanoseconds), which Prometheus treats as a reset.
  std::atomic<uint64_t> sum_{0};
};

// Owns metrics by name and labels and renders them. References returned by Get* stay valid for
// the registry's lifetime, so callers look a metric up once and keep the reference.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the metric registered under `name` and `labels`, creating it on first use. `help`
  // is kept from the first registration of `name`. CHECK-fails if `name` or a label name is not
  // a valid Prometheus name, a label key repeats, or `name` was registered as another type.
  Counter& GetCounter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, Labels labels = {});
  // The label "le" is reserved for the bucket bounds.
  Histogram& GetHistogram(std::string_view name, std::string_view help, Labels labels = {});

  // Prometheus text exposition format 0.0.4: families sorted by name, series by labels.
  // Histograms export cumulative buckets at the powers of two only (le="1", "2", "4", ...,
  // "+Inf"), which keeps each to 44 series; Histogram::Percentile uses the finer buckets.
  std::string ExportPrometheusText() const;

 private:
  template <typename T>
  using SeriesMap = std::map<Labels, std::unique_ptr<T>>;

  // All series of one name; the variant's alternative is the metric type.
  struct Family {
    std::string help;
    std::variant<SeriesMap<Counter>, SeriesMap<Gauge>, SeriesMap<Histogram>> series;
  };

  template <typename T>
  T& GetMetric(std::string_view name, std::string_view help, Labels labels);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mutex_
};

// The process-wide registry, which the metrics HTTP endpoint exports. Never destroyed, so
// threads still running at exit may keep recording.
MetricsRegistry& DefaultMetrics();

constexpr size_t Histogram::BucketIndex(uint64_t value) {
  if (value == 0) return 0;
  // Shift by one so that each power of two is the inclusive upper bound of a bucket, matching
  // Prometheus `le` semantics: 8 falls in (7, 8] rather than starting [8, 10).
  const uint64_t below = value - 1;
  if (below < kSubBucketCount) return 1 + below;
  const uint64_t exponent = static_cast<uint64_t>(std::bit_width(below)) - 1;
  if (exponent >= kExponentMax) return kOverflowBucket;
  const uint64_t sub_bucket = (below >> (exponent - kSubBucketBits)) & (kSubBucketCount - 1);
  return 1 + kSubBucketCount + (exponent - kSubBucketBits) * kSubBucketCount + sub_bucket;
}

constexpr uint64_t Histogram::BucketUpperBound(size_t index) {
  if (index >= kOverflowBucket) return UINT64_MAX;
  if (index <= kSubBucketCount) return index;
  const uint64_t linear_index = index - 1 - kSubBucketCount;
  const uint64_t exponent = kSubBucketBits + linear_index / kSubBucketCount;
  const uint64_t sub_bucket = linear_index % kSubBucketCount;
  return (kSubBucketCount + sub_bucket + 1) << (exponent - kSubBucketBits);
}

}  // namespace cerulean
