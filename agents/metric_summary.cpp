#include "agents/metric_summary.hpp"

#include <algorithm>

namespace kiln::agent {

void MetricSummary::add(double value) {
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  sum_ += value;
  ++count_;
}

kiln::v1::MetricSummary MetricSummary::to_proto() const {
  kiln::v1::MetricSummary out;
  out.set_min(min_);
  out.set_avg(avg());
  out.set_max(max_);
  out.set_count(count_);
  return out;
}

MetricSummary& MetricSummaries::at(std::string_view name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) it = by_name_.emplace(std::string(name), MetricSummary{}).first;
  return it->second;
}

const MetricSummary* MetricSummaries::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

void MetricSummaries::write_to(google::protobuf::Map<std::string, kiln::v1::MetricSummary>& out) const {
  for (const auto& [name, summary] : by_name_) {
    if (summary.count() > 0) out[name] = summary.to_proto();
  }
}

}  // namespace kiln::agent
