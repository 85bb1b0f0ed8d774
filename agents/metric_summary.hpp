#pragma once
// Running min/avg/max/count per metric name, what a ChipStepResult reports
// for each metric of a step. Not thread-safe: one per (chip, step).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "schema/kiln.pb.h"

namespace kiln::agent {

class MetricSummary {
 public:
  void add(double value) {  // inline: a step adds every value it samples
    if (count_ == 0) {
      min_ = max_ = value;
    } else {
      min_ = std::min(min_, value);
      max_ = std::max(max_, value);
    }
    sum_ += value;
    ++count_;
  }
  std::uint64_t count() const { return count_; }
  double min() const { return min_; }
  double max() const { return max_; }
  double avg() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }
  kiln::v1::MetricSummary to_proto() const;

 private:
  std::uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
  double sum_ = 0;
};

class MetricSummaries {
 public:
  void add(std::string_view name, double value) { at(name).add(value); }
  // The metric's summary, made empty on first use; it stays where it is
  // (a caller may keep the reference for the summaries' lifetime).
  MetricSummary& at(std::string_view name);
  // nullptr when the metric never had a value (unavailable).
  const MetricSummary* find(std::string_view name) const;
  bool empty() const { return by_name_.empty(); }
  // Into ChipStepResult.metrics; a metric without values is not written.
  void write_to(google::protobuf::Map<std::string, kiln::v1::MetricSummary>& out) const;

 private:
  // The summaries side by side (a step adds to all of them every tick), a
  // deque so that each stays where it is; the map finds one by name.
  std::deque<MetricSummary> summaries_;
  std::map<std::string, std::size_t, std::less<>> by_name_;
};

}  // namespace kiln::agent
