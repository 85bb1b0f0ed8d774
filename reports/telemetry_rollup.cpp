#include "reports/telemetry_rollup.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::reports {

std::vector<RollupBucket> reduce_to_buckets(const std::vector<TimedValue>& samples, double end_s, std::size_t buckets) {
  std::vector<RollupBucket> out(buckets);
  if (buckets == 0 || !(end_s > 0)) return {};
  const double width = end_s / static_cast<double>(buckets);
  std::vector<double> sums(buckets, 0);
  for (std::size_t i = 0; i < buckets; ++i) {
    out[i].t0_s = width * static_cast<double>(i);
    out[i].t1_s = width * static_cast<double>(i + 1);
    out[i].min = std::numeric_limits<double>::infinity();
    out[i].max = -std::numeric_limits<double>::infinity();
  }
  for (const TimedValue& s : samples) {
    if (std::isnan(s.value) || std::isnan(s.t_s)) continue;
    const double slot = std::floor(s.t_s / width);
    const auto i = static_cast<std::size_t>(std::clamp(slot, 0.0, static_cast<double>(buckets - 1)));
    RollupBucket& b = out[i];
    b.min = std::min(b.min, s.value);
    b.max = std::max(b.max, s.value);
    sums[i] += s.value;
    ++b.count;
  }
  for (std::size_t i = 0; i < buckets; ++i) {
    if (out[i].count == 0) {
      out[i].min = out[i].max = out[i].avg = std::numeric_limits<double>::quiet_NaN();
    } else {
      out[i].avg = sums[i] / static_cast<double>(out[i].count);
    }
  }
  return out;
}

std::map<std::uint32_t, double> step_starts(const kiln::v1::RunPlan& plan) {
  std::map<std::uint32_t, double> phase_length;
  for (const auto& s : plan.steps())
    phase_length[s.phase_index()] = std::max(phase_length[s.phase_index()], s.duration_s());
  std::map<std::uint32_t, double> phase_start;
  double at = 0;
  for (const auto& [phase, length] : phase_length) {
    phase_start[phase] = at;
    at += length;
  }
  std::map<std::uint32_t, double> starts;
  for (const auto& s : plan.steps()) starts[s.step_index()] = phase_start[s.phase_index()];
  return starts;
}

double run_length_s(const kiln::v1::RunPlan& plan) {
  double end = 0;
  const auto starts = step_starts(plan);
  for (const auto& s : plan.steps()) end = std::max(end, starts.at(s.step_index()) + s.duration_s());
  return end;
}

Result<std::vector<MetricRollup>> chip_rollup(const ReportSources& sources, const kiln::v1::RunPlan& plan,
                                              const std::string& serial, const std::vector<std::string>& metrics,
                                              std::size_t buckets) {
  const auto starts = step_starts(plan);
  const double end_s = run_length_s(plan);
  std::vector<MetricRollup> out;
  for (const std::string& metric : metrics) {
    kiln::v1::Query q;
    q.set_kind(kiln::v1::Query::TELEMETRY);
    q.set_run_id(plan.run_id());
    q.set_serial(serial);
    q.set_metric(metric);
    q.set_answer(kiln::v1::Query::ANSWER_TYPED);
    KILN_TRY_ASSIGN(const kiln::v1::QueryReply reply, sources.query(q));
    std::vector<TimedValue> samples;
    for (const auto& series : reply.telemetry().series()) {
      const auto start = starts.find(series.step_index());
      if (series.serial() != serial || series.metric() != metric || start == starts.end()) continue;
      const int n = std::min(series.t_s_size(), series.values_size());
      for (int i = 0; i < n; ++i) samples.push_back({start->second + series.t_s(i), series.values(i)});
    }
    if (samples.empty()) continue;
    out.push_back({metric, reduce_to_buckets(samples, end_s, buckets)});
  }
  return out;
}

}  // namespace kiln::reports
