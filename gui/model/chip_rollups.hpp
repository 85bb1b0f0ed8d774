#pragma once
// One chip's whole-run charts from the daemon's stored roll-ups (Query
// ROLLUPS: min/avg/max per stored chunk), and the raw values only where a
// chart is zoomed in far enough for them to fit (Query TELEMETRY with time
// windows). Qt-free: what a chart draws is decided here
// (docs/telemetry-storage.md, "Dashboard charts").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gui/model/chip_series.hpp"
#include "schema/kiln.pb.h"

namespace kiln::gui {

// One roll-up on the run's time axis: the values between x0 and x1.
struct RollupSpan {
  double x0 = 0, x1 = 0;
  std::uint64_t count = 0;
  double min = 0, avg = 0, max = 0;
};

class ChipRollups {
 public:
  ChipRollups() = default;
  ChipRollups(std::string serial, RunLayout layout) : serial_(std::move(serial)), layout_(std::move(layout)) {}

  // This chip's roll-ups (parts of one answer may repeat a key). Returns the roll-ups used.
  std::size_t load(const kiln::v1::TelemetryRollups& rollups);

  const RunLayout& layout() const { return layout_; }
  const std::vector<RollupSpan>* series(const std::string& metric) const;
  // Set when retention dropped the run's raw telemetry: only roll-ups are left.
  bool raw_pruned() const { return raw_pruned_unix_ms_ != 0; }
  std::int64_t raw_pruned_unix_ms() const { return raw_pruned_unix_ms_; }
  // Where the last roll-up ends: live samples after it are drawn raw.
  double end_x() const { return end_x_; }
  bool empty() const { return series_.empty(); }
  // Raw values of the busiest series within [x0, x1], estimated from the
  // counts (a roll-up partly inside counts its share).
  std::uint64_t values_in(double x0, double x1) const;

 private:
  std::string serial_;
  RunLayout layout_;
  std::map<std::string, std::vector<RollupSpan>> series_;
  std::int64_t raw_pruned_unix_ms_ = 0;
  double end_x_ = 0;
};

// The TELEMETRY windows that cover [x0, x1] of the run's time axis: one per
// step whose span meets it, in that step's own time.
std::vector<kiln::v1::TimeWindow> windows_for(const RunLayout& layout, double x0, double x1);

// What the charts show for a visible span [x0, x1].
struct ZoomDecision {
  enum class Source {
    rollups,      // the whole run, or too many raw values for the span
    raw_window,   // few enough values: ask for (or keep) the raw values of the span
    rollups_only  // the raw values were pruned
  };
  static constexpr std::uint64_t kMaxRawValues = 6000;  // of the busiest series in the span
  Source source = Source::rollups;
  std::uint64_t values = 0;  // estimated, of the busiest series
};
ZoomDecision decide_zoom(const ChipRollups& rollups, double x0, double x1, bool zoomed);

// What one metric's chart line is: a line (raw values, or the roll-ups'
// averages) and, from roll-ups, the min–max band around it.
struct ChartLine {
  std::vector<Point> line;
  std::vector<Point> band_low, band_high;  // empty when drawn from raw values
};

// The chart data of `metric` over [x0, x1]: from `raw` (decimated to
// max_points) when there are no roll-ups or when `raw_span` (the span the
// raw values were fetched for) covers [x0, x1]; otherwise the roll-ups'
// band and averages, with raw (live) values after the last roll-up.
ChartLine chart_line(const std::string& metric, const ChipRollups* rollups, const ChipSeries* raw,
                     std::optional<std::pair<double, double>> raw_span, double x0, double x1, std::size_t max_points);

}  // namespace kiln::gui
