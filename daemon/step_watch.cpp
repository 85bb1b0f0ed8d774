#include "daemon/step_watch.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::daemon {

StepWatch::StepWatch(const kiln::v1::ChipStepResult& identity, CounterValues starts,
                     const metrics::MetricCatalog& catalog)
    : catalog_(catalog), starts_(std::move(starts)) {
  partial_.set_serial(identity.serial());
  partial_.set_run_id(identity.run_id());
  partial_.set_step_index(identity.step_index());
  partial_.set_completed(true);
}

void StepWatch::add(const kiln::v1::Sample& sample, CounterValues& last) {
  for (const kiln::v1::MetricValue& v : sample.values()) {
    if (!std::isfinite(v.value())) continue;
    auto& summaries = *partial_.mutable_metrics();
    auto [it, fresh] = summaries.try_emplace(v.name());
    kiln::v1::MetricSummary& s = it->second;
    const bool counter = catalog_.is_counter(v.name());
    if (fresh) {
      double first = v.value();
      if (counter) {
        const auto start = starts_.find(v.name());
        first = std::min(first, start != starts_.end() ? start->second : 0.0);
      }
      s.set_min(first);
      s.set_max(first);
      s.set_count(0);
    }
    s.set_min(std::min(s.min(), v.value()));
    s.set_max(std::max(s.max(), v.value()));
    s.set_count(s.count() + 1);
    double& sum = sums_[v.name()];
    sum += v.value();
    s.set_avg(sum / static_cast<double>(s.count()));
    if (counter) last[v.name()] = v.value();
  }
  partial_.set_ran_s(std::max(partial_.ran_s(), sample.t_s()));
}

}  // namespace kiln::daemon
