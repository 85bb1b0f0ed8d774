#pragma once
// One telemetry chart of the HTML report as inline SVG: the band between each
// bucket's min and max, its average as a line, the steps' limits as shaded
// bands (fail beyond a bound, marginal beyond a marginal bound) and the phase
// boundaries as dotted lines. A bucket with no sample is a gap.

#include <optional>
#include <string>
#include <vector>

#include "reports/telemetry_rollup.hpp"

namespace kiln::reports {

// value → pixel, linear; r0 > r1 draws upwards (SVG's y grows down).
struct LinearScale {
  double d0 = 0, d1 = 1;  // domain
  double r0 = 0, r1 = 1;  // range, pixels
  double operator()(double v) const;
};

// The y domain for [lo, hi]: padded by 5% each side, and by ±5% of the value where lo == hi, so a flat line sits
// mid-chart; an all-zero series (a counter that counted nothing) sits at the bottom of [0, 1].
LinearScale value_scale(double lo, double hi, double r0, double r1);
// Round tick values (1, 2, 5 × 10^k apart) within [lo, hi], at most max_ticks.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);

struct ChartLimit {  // absolute units over [x0, x1) of the run's time axis
  double x0 = 0, x1 = 0;
  std::optional<double> min, max, marginal_min, marginal_max;
};

struct ChartInput {
  std::string title;  // escaped when drawn
  std::string unit;
  double end_s = 0;  // the x axis is [0, end_s]
  std::vector<RollupBucket> buckets;
  std::vector<ChartLimit> limits;
  std::vector<double> boundaries;  // phase starts after the first
};

inline constexpr int kChartWidth = 420;
inline constexpr int kChartHeight = 170;

std::string svg_chart(const ChartInput& chart);

}  // namespace kiln::reports
