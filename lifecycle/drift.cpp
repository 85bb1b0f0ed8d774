#include "lifecycle/drift.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace kiln::lifecycle {
namespace {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  return (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid)) + upper) / 2;
}

double robust_sigma(const std::vector<double>& values, double center) {
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (const double v : values) deviations.push_back(std::abs(v - center));
  return 1.4826 * median(std::move(deviations));
}

// Positive when `value` is worse than `reference`.
double worse_by(Better better, double value, double reference) {
  return better == Better::higher ? reference - value : value - reference;
}

}  // namespace

DriftFinding drift_against_history(const std::string& figure, Better better, const std::vector<DriftPoint>& history,
                                   const DriftSettings& settings) {
  DriftFinding f;
  f.figure = figure;
  if (history.size() <= settings.baseline_runs) {
    f.reason = fmt::format("{}: {} run(s), a baseline needs {} and one more to compare", figure, history.size(),
                           settings.baseline_runs);
    if (!history.empty()) f.latest = history.back().value;
    return f;
  }
  std::vector<double> all;
  for (const DriftPoint& p : history) all.push_back(p.value);
  const std::vector<double> first(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(settings.baseline_runs));
  f.baseline = median(first);
  f.latest = all.back();
  f.change = f.baseline != 0 ? (f.latest - f.baseline) / std::abs(f.baseline) : 0;
  const double sigma = std::max(robust_sigma(first, f.baseline), settings.min_relative_sigma * std::abs(f.baseline));
  if (sigma <= 0) {
    f.reason = fmt::format("{}: a baseline of 0 cannot say how far a change is", figure);
    return f;
  }
  double cusum = 0;
  for (std::size_t i = settings.baseline_runs; i < history.size(); ++i) {
    cusum = std::max(0.0, cusum + worse_by(better, history[i].value, f.baseline) / sigma - settings.slack_sigma);
    if (cusum > settings.alarm_sigma && !f.since_run) f.since_run = history[i].run_id;
  }
  f.alarm = f.since_run.has_value();
  f.reason = f.alarm ? fmt::format("{}: drifted from {:.4g} to {:.4g} ({:+.1f}%), alarm since run {}", figure,
                                   f.baseline, f.latest, 100 * f.change, *f.since_run)
                     : fmt::format("{}: {:.4g} against a baseline of {:.4g} ({:+.1f}%), within its own history", figure,
                                   f.latest, f.baseline, 100 * f.change);
  return f;
}

DriftFinding drift_against_peers(const std::string& figure, Better better, double value,
                                 const std::vector<double>& peers, const DriftSettings& settings) {
  DriftFinding f;
  f.figure = figure;
  f.latest = value;
  if (peers.size() < 3) {
    f.reason = fmt::format("{}: {} peer(s); comparing needs at least 3", figure, peers.size());
    return f;
  }
  f.baseline = median(peers);
  f.change = f.baseline != 0 ? (value - f.baseline) / std::abs(f.baseline) : 0;
  const double sigma = std::max(robust_sigma(peers, f.baseline), 1e-12);
  const double z = worse_by(better, value, f.baseline) / sigma;
  const double relative = f.baseline != 0 ? worse_by(better, value, f.baseline) / std::abs(f.baseline) : 0;
  f.alarm = z > settings.peer_robust_z && relative > settings.peer_min_relative;
  f.reason = fmt::format("{}: {:.4g} against its peers' median {:.4g} ({:+.1f}%, robust z {:.1f}){}", figure, value,
                         f.baseline, 100 * f.change, z, f.alarm ? ": worse than its peers" : "");
  return f;
}

}  // namespace kiln::lifecycle
