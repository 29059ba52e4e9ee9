#include "base/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <type_traits>

#include <fmt/format.h>

#include "base/check.h"

namespace cerulean {
namespace {

bool IsLetterOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name) {
  if (name.empty() || IsDigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsLetterOrUnderscore(c) || IsDigit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*; names starting with "__" are reserved for Prometheus itself.
bool IsValidLabelName(std::string_view name) {
  if (name.empty() || IsDigit(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsLetterOrUnderscore(c) || IsDigit(c); });
}

// Sorts by key so that the same labels given in any order name the same series.
Labels CanonicalLabels(Labels labels) {
  std::sort(labels.begin(), labels.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    CHECK(IsValidLabelName(labels[i].first)) << "invalid label name '" << labels[i].first << "'";
    if (i > 0)
      CHECK(labels[i - 1].first != labels[i].first) << "repeated label " << labels[i].first;
  }
  return labels;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(std::string_view text, bool escape_quote) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else if (c == '"' && escape_quote) {
      escaped += "\\\"";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// `{a="1",b="2"}`, with `extra` (the histogram's `le`) last; empty when there are no labels.
std::string FormatLabels(const Labels& labels, std::string_view extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string text = "{";
  for (const auto& [key, value] : labels) {
    if (text.size() > 1) text += ',';
    fmt::format_to(std::back_inserter(text), "{}=\"{}\"", key, Escape(value, true));
  }
  if (!extra.empty()) {
    if (text.size() > 1) text += ',';
    text += extra;
  }
  text += '}';
  return text;
}

void AppendSeries(std::string& out, std::string_view name, const Labels& labels,
                  const Counter& counter) {
  fmt::format_to(std::back_inserter(out), "{}{} {}\n", name, FormatLabels(labels), counter.value());
}

void AppendSeries(std::string& out, std::string_view name, const Labels& labels,
                  const Gauge& gauge) {
  fmt::format_to(std::back_inserter(out), "{}{} {}\n", name, FormatLabels(labels), gauge.value());
}

void AppendSeries(std::string& out, std::string_view name, const Labels& labels,
                  const Histogram& histogram) {
  // One snapshot for all lines, so that the +Inf bucket equals _count as Prometheus expects.
  const Histogram::Snapshot snapshot = histogram.TakeSnapshot();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < Histogram::kFiniteBucketCount; ++i) {
    cumulative += snapshot.bucket_counts[i];
    const uint64_t upper_bound = Histogram::BucketUpperBound(i);
    if (!std::has_single_bit(upper_bound)) continue;
    fmt::format_to(std::back_inserter(out), "{}_bucket{} {}\n", name,
                   FormatLabels(labels, fmt::format("le=\"{}\"", upper_bound)), cumulative);
  }
  fmt::format_to(std::back_inserter(out), "{}_bucket{} {}\n", name,
                 FormatLabels(labels, "le=\"+Inf\""), snapshot.count);
  fmt::format_to(std::back_inserter(out), "{}_sum{} {}\n", name, FormatLabels(labels),
                 snapshot.sum);
  fmt::format_to(std::back_inserter(out), "{}_count{} {}\n", name, FormatLabels(labels),
                 snapshot.count);
}

template <typename T>
constexpr std::string_view TypeName();
template <>
constexpr std::string_view TypeName<Counter>() {
  return "counter";
}
template <>
constexpr std::string_view TypeName<Gauge>() {
  return "gauge";
}
template <>
constexpr std::string_view TypeName<Histogram>() {
  return "histogram";
}

}  // namespace

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (const auto& bucket_count : bucket_counts_) {
    total += bucket_count.load(std::memory_order_relaxed);
  }
  return total;
}

Histogram::Snapshot Histogram::TakeSnapshot() const {
  Snapshot snapshot;
  for (size_t i = 0; i < kBucketCount; ++i) {
    snapshot.bucket_counts[i] = bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.count += snapshot.bucket_counts[i];
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

uint64_t Histogram::Snapshot::Percentile(double p) const {
  CHECK(p >= 0.0 && p <= 100.0) << "percentile " << p;
  if (count == 0) return 0;
  // The rank of the sample at the p-th percentile, 1-based: p = 0 asks for the smallest.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count))));
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    cumulative += bucket_counts[i];
    if (cumulative >= rank) return BucketUpperBound(i);
  }
  return BucketUpperBound(kOverflowBucket);
}

template <typename T>
T& MetricsRegistry::GetMetric(std::string_view name, std::string_view help, Labels labels) {
  CHECK(IsValidMetricName(name)) << "invalid metric name '" << name << "'";
  labels = CanonicalLabels(std::move(labels));

  std::lock_guard lock(mutex_);
  auto family = families_.find(name);
  if (family == families_.end()) {
    family = families_.emplace(std::string(name), Family{std::string(help), SeriesMap<T>()}).first;
  }
  auto* series = std::get_if<SeriesMap<T>>(&family->second.series);
  CHECK(series != nullptr) << "metric " << name << " registered again as a " << TypeName<T>();
  std::unique_ptr<T>& metric = (*series)[std::move(labels)];
  if (metric == nullptr) metric = std::make_unique<T>();
  return *metric;
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help, Labels labels) {
  return GetMetric<Counter>(name, help, std::move(labels));
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help, Labels labels) {
  return GetMetric<Gauge>(name, help, std::move(labels));
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         Labels labels) {
  for (const auto& label : labels) {
    CHECK(label.first != "le") << "histogram " << name << " uses the reserved label le";
  }
  return GetMetric<Histogram>(name, help, std::move(labels));
}

std::string MetricsRegistry::ExportPrometheusText() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& entry : families_) {
    // Named references, not structured bindings: clang 14 (the fuzz build) cannot capture those.
    const auto& name = entry.first;
    const auto& family = entry.second;
    std::visit(
        [&out, &name, &family](const auto& series) {
          using Metric = typename std::decay_t<decltype(series)>::mapped_type::element_type;
          fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name,
                         Escape(family.help, false), name, TypeName<Metric>());
          for (const auto& [labels, metric] : series) AppendSeries(out, name, labels, *metric);
        },
        family.series);
  }
  return out;
}

MetricsRegistry& DefaultMetrics() {
  // Leaked on purpose: a static destructor would race with threads that record during exit.
  static MetricsRegistry* const registry = new MetricsRegistry();
  return *registry;
}

}  // namespace cerulean
