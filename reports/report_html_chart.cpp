#include "reports/report_html_chart.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "reports/report_html_page.hpp"

namespace kiln::reports {
namespace {

constexpr double kLeft = 52, kRight = 8, kTop = 20, kBottom = 22;

std::string px(double v) { return fmt::format("{:.1f}", v); }

std::string tick_text(double v) { return fmt::format("{:.4g}", std::abs(v) < 1e-12 ? 0.0 : v); }

// The polygon between max (left to right) and min (right to left) of one
// run of consecutive buckets with samples.
std::string band_path(const std::vector<RollupBucket>& b, std::size_t from, std::size_t to, const LinearScale& x,
                      const LinearScale& y) {
  std::string d;
  for (std::size_t i = from; i < to; ++i) {
    d += fmt::format("{}{},{} ", i == from ? "M" : "L", px(x(b[i].t0_s)), px(y(b[i].max)));
    d += fmt::format("L{},{} ", px(x(b[i].t1_s)), px(y(b[i].max)));
  }
  for (std::size_t i = to; i-- > from;) {
    d += fmt::format("L{},{} ", px(x(b[i].t1_s)), px(y(b[i].min)));
    d += fmt::format("L{},{} ", px(x(b[i].t0_s)), px(y(b[i].min)));
  }
  return d + "Z";
}

std::string avg_path(const std::vector<RollupBucket>& b, std::size_t from, std::size_t to, const LinearScale& x,
                     const LinearScale& y) {
  std::string d;
  for (std::size_t i = from; i < to; ++i) {
    d += fmt::format("{}{},{} ", i == from ? "M" : "L", px(x((b[i].t0_s + b[i].t1_s) / 2)), px(y(b[i].avg)));
  }
  return d;
}

}  // namespace

double LinearScale::operator()(double v) const {
  if (d1 == d0) return (r0 + r1) / 2;
  return r0 + (v - d0) * (r1 - r0) / (d1 - d0);
}

LinearScale value_scale(double lo, double hi, double r0, double r1) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (hi == 0 && lo == 0) return {-0.05, 1.05, r0, r1};  // a count that stayed 0: along the bottom, never below
  if (hi == lo) {
    const double pad = std::abs(lo) * 0.05;
    return {lo - pad, hi + pad, r0, r1};
  }
  const double pad = (hi - lo) * 0.05;
  return {lo - pad, hi + pad, r0, r1};
}

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  if (!(hi > lo) || max_ticks < 2) return {lo};
  const double raw = (hi - lo) / (max_ticks - 1);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

std::string svg_chart(const ChartInput& chart) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& b : chart.buckets) {
    if (b.count == 0) continue;
    lo = std::min(lo, b.min);
    hi = std::max(hi, b.max);
  }
  for (const auto& l : chart.limits) {
    for (const auto& bound : {l.min, l.max, l.marginal_min, l.marginal_max}) {
      if (bound) lo = std::min(lo, *bound), hi = std::max(hi, *bound);
    }
  }
  const double w = kChartWidth, h = kChartHeight;
  const LinearScale x{0, chart.end_s > 0 ? chart.end_s : 1, kLeft, w - kRight};
  const LinearScale y = value_scale(lo, hi, h - kBottom, kTop);
  std::string svg = fmt::format(
      "<svg class=\"chart\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\">"
      "<title>{}</title>\n",
      kChartWidth, kChartHeight, kChartWidth, kChartHeight, html_escape(chart.title));
  svg += fmt::format("<text x=\"{}\" y=\"14\" font-size=\"12\" font-weight=\"bold\">{}{}</text>\n", kLeft,
                     html_escape(chart.title), chart.unit.empty() ? "" : " (" + html_escape(chart.unit) + ")");
  // Limit bands first, under the data.
  const double top = y.r1, bottom = y.r0;
  auto shade = [&](double x0, double x1, double y0, double y1, const char* fill, const char* cls) {
    const double a = std::clamp(std::min(y0, y1), top, bottom), b = std::clamp(std::max(y0, y1), top, bottom);
    if (b - a < 0.5) return;
    svg += fmt::format("<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", cls, px(x0),
                       px(a), px(std::max(0.0, x1 - x0)), px(b - a), fill);
  };
  for (const auto& l : chart.limits) {
    const double x0 = x(l.x0), x1 = x(l.x1);
    if (l.max) shade(x0, x1, top, y(*l.max), "#ffcdd2", "limit-fail");
    if (l.min) shade(x0, x1, y(*l.min), bottom, "#ffcdd2", "limit-fail");
    if (l.marginal_max) shade(x0, x1, y(l.max ? *l.max : y.d1), y(*l.marginal_max), "#ffecb3", "limit-marginal");
    if (l.marginal_min) shade(x0, x1, y(*l.marginal_min), y(l.min ? *l.min : y.d0), "#ffecb3", "limit-marginal");
    for (const auto& bound : {l.min, l.max}) {
      if (bound) {
        svg +=
            fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#c62828\" stroke-dasharray=\"4 2\"/>\n",
                        px(x0), px(y(*bound)), px(x1), px(y(*bound)));
      }
    }
  }
  // Axes and ticks.
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", kLeft, top,
                     px(w - kRight - kLeft), px(bottom - top));
  for (const double t : nice_ticks(y.d0, y.d1, 5)) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n", kLeft - 4,
                       px(y(t) + 3), tick_text(t));
    svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#eee\"/>\n", kLeft, px(y(t)),
                       px(w - kRight), px(y(t)));
  }
  for (const double t : nice_ticks(0, x.d1, 6)) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}s</text>\n", px(x(t)),
                       px(h - 6), tick_text(t));
  }
  for (const double b : chart.boundaries) {
    svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#777\" stroke-dasharray=\"1 3\"/>\n",
                       px(x(b)), px(top), px(x(b)), px(bottom));
  }
  // The data: each run of buckets with samples.
  const auto& b = chart.buckets;
  for (std::size_t i = 0; i < b.size();) {
    if (b[i].count == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < b.size() && b[j].count > 0) ++j;
    svg += fmt::format("<path class=\"minmax\" d=\"{}\" fill=\"#90caf9\" fill-opacity=\"0.6\" stroke=\"none\"/>\n",
                       band_path(b, i, j, x, y));
    svg += fmt::format("<path class=\"avg\" d=\"{}\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.2\"/>\n",
                       avg_path(b, i, j, x, y));
    i = j;
  }
  svg += "</svg>";
  return svg;
}

}  // namespace kiln::reports
