#include "agents/metric_summary.hpp"

namespace kiln::agent {

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
  if (it == by_name_.end()) {
    it = by_name_.emplace(std::string(name), summaries_.size()).first;
    summaries_.emplace_back();
  }
  return summaries_[it->second];
}

const MetricSummary* MetricSummaries::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &summaries_[it->second];
}

void MetricSummaries::write_to(google::protobuf::Map<std::string, kiln::v1::MetricSummary>& out) const {
  for (const auto& [name, index] : by_name_) {
    const MetricSummary& summary = summaries_[index];
    if (summary.count() > 0) out[name] = summary.to_proto();
  }
}

}  // namespace kiln::agent
