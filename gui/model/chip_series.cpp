#include "gui/model/chip_series.hpp"

#include <algorithm>
#include <cmath>

#include "metrics/catalog.hpp"

namespace kiln::gui {

RunLayout RunLayout::from_plan(const kiln::v1::RunPlan& plan) {
  RunLayout layout;
  layout.run_id = plan.run_id();
  layout.plan = plan.plan();
  std::map<std::uint32_t, double> phase_length;
  for (const auto& s : plan.steps()) {
    StepSpan span;
    span.index = s.step_index();
    span.phase = s.phase_index();
    span.name = s.name();
    span.duration_s = s.duration_s();
    phase_length[span.phase] = std::max(phase_length[span.phase], span.duration_s);
    layout.steps.push_back(span);
  }
  // Phases run one after the other in index order; a phase lasts its longest step.
  std::map<std::uint32_t, double> phase_start;
  double at = 0;
  for (const auto& [phase, length] : phase_length) {
    phase_start[phase] = at;
    at += length;
  }
  for (auto& s : layout.steps) s.start_s = phase_start[s.phase];
  layout.total_s = at;
  return layout;
}

const StepSpan* RunLayout::step(std::uint32_t index) const {
  for (const auto& s : steps) {
    if (s.index == index) return &s;
  }
  return nullptr;
}

const StepSpan* RunLayout::step_named(const std::string& name) const {
  for (const auto& s : steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

double RunLayout::x_of(std::uint32_t step_index, double t_s) const {
  const StepSpan* s = step(step_index);
  return (s ? s->start_s : 0.0) + t_s;
}

std::vector<double> RunLayout::boundaries() const {
  std::vector<double> out;
  for (const auto& s : steps) {
    if (s.start_s > 0 && std::find(out.begin(), out.end(), s.start_s) == out.end()) out.push_back(s.start_s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<LimitBand> limit_bands(const kiln::v1::RunPlan& plan, const RunLayout& layout,
                                   const std::map<std::string, double>& peaks) {
  std::vector<LimitBand> bands;
  for (const auto& step : plan.steps()) {
    const StepSpan* span = layout.step(step.step_index());
    if (span == nullptr) continue;
    for (const auto& limit : step.limits()) {
      double scale = 1;
      if (limit.of() == kiln::v1::LIMIT_OF_PEAK) {
        const auto peak = peaks.find(limit.peak_key());
        if (limit.peak_key().empty() || peak == peaks.end() || !(peak->second > 0)) continue;
        scale = peak->second;
      } else if (limit.of() != kiln::v1::LIMIT_OF_ABSOLUTE) {
        continue;
      }
      auto scaled = [scale](bool has, double v) { return has ? std::optional<double>(v * scale) : std::nullopt; };
      bands.push_back(LimitBand{limit.metric(), span->start_s, span->start_s + span->duration_s,
                                scaled(limit.has_min(), limit.min()), scaled(limit.has_max(), limit.max()),
                                scaled(limit.has_marginal_min(), limit.marginal_min()),
                                scaled(limit.has_marginal_max(), limit.marginal_max())});
    }
  }
  return bands;
}

std::unordered_map<std::uint32_t, std::string> step_peak_keys(const kiln::v1::RunPlan& plan,
                                                              const std::string& metric) {
  std::unordered_map<std::uint32_t, std::string> keys;
  for (const auto& step : plan.steps()) {
    std::string key = metrics::MetricCatalog::builtin().peak_key_for(
        metric, [&](std::string_view param) -> std::optional<std::string> {
          auto it = step.params().find(std::string(param));
          if (it == step.params().end()) return std::nullopt;
          return it->second;
        });
    if (!key.empty()) keys.emplace(step.step_index(), std::move(key));
  }
  return keys;
}

void ChipSeries::add(const std::string& metric, double x, double y) {
  auto& points = series_[metric];
  if (points.size() >= kMaxPoints) points.erase(points.begin(), points.begin() + kMaxPoints / 2);
  points.push_back(Point{x, y});
}

std::size_t ChipSeries::load_series(const kiln::v1::TelemetrySeries& telemetry) {
  std::size_t used = 0;
  for (const auto& stored : telemetry.series()) {
    const StepSpan* step = layout_.step(stored.step_index());
    if (stored.serial() != serial_ || step == nullptr) continue;
    const int n = std::min(stored.t_s_size(), stored.values_size());
    for (int i = 0; i < n; ++i) {
      const double x = step->start_s + stored.t_s(i);
      add(stored.metric(), x, stored.values(i));
      last_x_ = std::max(last_x_, x);
    }
    used += static_cast<std::size_t>(n);
  }
  // Series arrive by step; the charts want each metric's points in x order.
  for (auto& [metric, points] : series_) {
    std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.x < b.x; });
  }
  return used;
}

bool ChipSeries::append(const LabState& lab, const ChipState& chip) {
  if (chip.serial != serial_ || chip.run_id != layout_.run_id || chip.wall_unix_ms <= 0) return false;
  const double x = layout_.x_of(chip.step_index, chip.t_s);
  if (x <= last_x_) return false;
  last_x_ = x;
  const auto& names = lab.metric_names();
  for (std::uint32_t id = 0; id < names.size(); ++id) {
    const double v = lab.value(chip, id);
    if (!std::isnan(v)) add(names[id], x, v);
  }
  return true;
}

const std::vector<Point>* ChipSeries::series(const std::string& metric) const {
  auto it = series_.find(metric);
  return it == series_.end() ? nullptr : &it->second;
}

std::optional<double> ChipSeries::last_value(const std::string& metric) const {
  const auto* points = series(metric);
  if (points == nullptr || points->empty()) return std::nullopt;
  return points->back().y;
}

std::vector<std::string> ChipSeries::metrics() const {
  std::vector<std::string> names;
  for (const auto& [name, points] : series_) names.push_back(name);
  return names;
}

std::vector<Point> decimate(const std::vector<Point>& points, double x0, double x1, std::size_t max_points) {
  auto first = std::lower_bound(points.begin(), points.end(), x0, [](const Point& p, double x) { return p.x < x; });
  auto last = std::upper_bound(points.begin(), points.end(), x1, [](double x, const Point& p) { return x < p.x; });
  // One point either side keeps the line running to the edges of the view.
  if (first != points.begin()) --first;
  if (last != points.end()) ++last;
  const auto count = static_cast<std::size_t>(last - first);
  if (count <= max_points || max_points < 4) return {first, last};
  std::vector<Point> out;
  out.reserve(max_points);
  const std::size_t buckets = max_points / 2;
  for (std::size_t b = 0; b < buckets; ++b) {
    auto begin = first + static_cast<std::ptrdiff_t>(count * b / buckets);
    auto end = first + static_cast<std::ptrdiff_t>(count * (b + 1) / buckets);
    if (begin == end) continue;
    auto [lo, hi] = std::minmax_element(begin, end, [](const Point& a, const Point& c) { return a.y < c.y; });
    if (lo->x <= hi->x) {
      out.push_back(*lo);
      if (hi != lo) out.push_back(*hi);
    } else {
      out.push_back(*hi);
      out.push_back(*lo);
    }
  }
  return out;
}

}  // namespace kiln::gui
