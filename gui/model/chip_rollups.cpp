#include "gui/model/chip_rollups.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::gui {

std::size_t ChipRollups::load(const kiln::v1::TelemetryRollups& rollups) {
  if (rollups.raw_pruned_unix_ms() != 0) raw_pruned_unix_ms_ = rollups.raw_pruned_unix_ms();
  std::size_t used = 0;
  for (const auto& stored : rollups.series()) {
    const StepSpan* step = layout_.step(stored.step_index());
    if (stored.serial() != serial_ || step == nullptr) continue;
    const int n = std::min({stored.t_from_s_size(), stored.t_to_s_size(), stored.count_size(), stored.min_size(),
                            stored.avg_size(), stored.max_size()});
    auto& spans = series_[stored.metric()];
    for (int i = 0; i < n; ++i) {
      const RollupSpan span{step->start_s + stored.t_from_s(i),
                            step->start_s + stored.t_to_s(i),
                            stored.count(i),
                            stored.min(i),
                            stored.avg(i),
                            stored.max(i)};
      end_x_ = std::max(end_x_, span.x1);
      ++used;
      if (span.count == 0 || std::isnan(span.avg)) continue;  // every value NaN: nothing to draw
      spans.push_back(span);
    }
  }
  // Steps arrive one after the other; a chart wants each metric in x order.
  for (auto& [metric, spans] : series_) {
    std::stable_sort(spans.begin(), spans.end(), [](const RollupSpan& a, const RollupSpan& b) { return a.x0 < b.x0; });
  }
  return used;
}

const std::vector<RollupSpan>* ChipRollups::series(const std::string& metric) const {
  const auto it = series_.find(metric);
  return it == series_.end() ? nullptr : &it->second;
}

std::uint64_t ChipRollups::values_in(double x0, double x1) const {
  double busiest = 0;
  for (const auto& [metric, spans] : series_) {
    double n = 0;
    for (const RollupSpan& s : spans) {
      if (s.x1 < x0 || s.x0 > x1) continue;
      const double width = s.x1 - s.x0;
      const double inside = width <= 0 ? 1.0 : (std::min(s.x1, x1) - std::max(s.x0, x0)) / width;
      n += static_cast<double>(s.count) * std::clamp(inside, 0.0, 1.0);
    }
    busiest = std::max(busiest, n);
  }
  return static_cast<std::uint64_t>(std::ceil(busiest));
}

std::vector<kiln::v1::TimeWindow> windows_for(const RunLayout& layout, double x0, double x1) {
  std::vector<kiln::v1::TimeWindow> windows;
  for (const StepSpan& s : layout.steps) {
    if (s.start_s > x1 || s.start_s + s.duration_s < x0) continue;
    kiln::v1::TimeWindow w;
    w.set_step_index(s.index);
    w.set_from_t_s(std::max(0.0, x0 - s.start_s));
    // Not cut at the step's planned end: a step's last samples can come after it.
    w.set_to_t_s(std::max(w.from_t_s(), x1 - s.start_s));
    windows.push_back(w);
  }
  return windows;
}

ZoomDecision decide_zoom(const ChipRollups& rollups, double x0, double x1, bool zoomed) {
  ZoomDecision d;
  d.values = rollups.values_in(x0, x1);
  if (rollups.raw_pruned()) {
    d.source = ZoomDecision::Source::rollups_only;
  } else if (zoomed && d.values <= ZoomDecision::kMaxRawValues) {
    d.source = ZoomDecision::Source::raw_window;
  }
  return d;
}

namespace {

// The roll-ups meeting [x0, x1], at most max_spans of them (neighbours merged).
std::vector<RollupSpan> spans_in(const std::vector<RollupSpan>& all, double x0, double x1, std::size_t max_spans) {
  std::vector<RollupSpan> in;
  for (const RollupSpan& s : all) {
    if (s.x1 >= x0 && s.x0 <= x1) in.push_back(s);
  }
  if (in.size() <= max_spans || max_spans == 0) return in;
  std::vector<RollupSpan> merged;
  const std::size_t per = (in.size() + max_spans - 1) / max_spans;
  for (std::size_t i = 0; i < in.size(); i += per) {
    RollupSpan m = in[i];
    double sum = m.avg * static_cast<double>(m.count);
    for (std::size_t j = i + 1; j < std::min(in.size(), i + per); ++j) {
      const RollupSpan& s = in[j];
      m.x1 = s.x1;
      m.min = std::min(m.min, s.min);
      m.max = std::max(m.max, s.max);
      sum += s.avg * static_cast<double>(s.count);
      m.count += s.count;
    }
    m.avg = m.count > 0 ? sum / static_cast<double>(m.count) : m.avg;
    merged.push_back(m);
  }
  return merged;
}

}  // namespace

ChartLine chart_line(const std::string& metric, const ChipRollups* rollups, const ChipSeries* raw,
                     std::optional<std::pair<double, double>> raw_span, double x0, double x1, std::size_t max_points) {
  ChartLine out;
  const std::vector<Point>* points = raw != nullptr ? raw->series(metric) : nullptr;
  const bool raw_covers = raw_span && raw_span->first <= x0 + 1e-9 && raw_span->second >= x1 - 1e-9;
  if (rollups == nullptr || raw_covers) {
    if (points != nullptr) out.line = decimate(*points, x0, x1, max_points);
    return out;
  }
  if (const auto* spans = rollups->series(metric)) {
    for (const RollupSpan& s : spans_in(*spans, x0, x1, max_points / 2)) {
      out.band_low.push_back({s.x0, s.min});
      out.band_low.push_back({s.x1, s.min});
      out.band_high.push_back({s.x0, s.max});
      out.band_high.push_back({s.x1, s.max});
      out.line.push_back({(s.x0 + s.x1) / 2, s.avg});
    }
  }
  // Live samples after the stored roll-ups, raw.
  if (points != nullptr && !points->empty() && points->back().x > rollups->end_x()) {
    const double from = std::max(x0, rollups->end_x());
    for (const Point& p : decimate(*points, from, x1, max_points / 2)) {
      if (p.x > rollups->end_x()) out.line.push_back(p);
    }
  }
  return out;
}

}  // namespace kiln::gui
