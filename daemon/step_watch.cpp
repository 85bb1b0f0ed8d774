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
    fold(v.name(), 1, v.value(), v.value(), v.value(), v.value(), last);
  }
  partial_.set_ran_s(std::max(partial_.ran_s(), sample.t_s()));
}

void StepWatch::add(const store::ChunkDigest& chunk, CounterValues& last) {
  for (const store::ChunkDigest::Metric& m : chunk.metrics) {
    // Stats count what is not NaN; an infinity makes min/max/sum infinite,
    // which the sample path would have skipped: skip the chunk's figures too.
    const store::chunk::SeriesStats& st = m.stats;
    if (st.count == 0 || !std::isfinite(st.min) || !std::isfinite(st.max) || !std::isfinite(st.sum)) continue;
    fold(m.name, st.count, st.min, st.max, st.sum, std::isfinite(st.last) ? st.last : st.max, last);
  }
  partial_.set_ran_s(std::max(partial_.ran_s(), chunk.last_t_s));
}

void StepWatch::fold(const std::string& name, std::uint64_t count, double min, double max, double sum, double last,
                     CounterValues& counters) {
  auto& summaries = *partial_.mutable_metrics();
  auto [it, fresh] = summaries.try_emplace(name);
  kiln::v1::MetricSummary& s = it->second;
  const bool counter = catalog_.is_counter(name);
  if (fresh) {
    double first = min;
    if (counter) {
      const auto start = starts_.find(name);
      first = std::min(first, start != starts_.end() ? start->second : 0.0);
    }
    s.set_min(first);
    s.set_max(first);
    s.set_count(0);
  }
  s.set_min(std::min(s.min(), min));
  s.set_max(std::max(s.max(), max));
  s.set_count(s.count() + count);
  double& total = sums_[name];
  total += sum;
  s.set_avg(total / static_cast<double>(s.count()));
  if (counter) counters[name] = last;
}

}  // namespace kiln::daemon
