#pragma once
// One chip's telemetry over a run, for the chip view's charts: the history
// the daemon has stored (the typed TELEMETRY answer) joined with the live
// samples that arrive after it, on one time axis (simulated seconds since
// the run's start), plus the run's step boundaries and the steps' limit
// bands (from the typed RunPlan that GetPlan answers). Qt-free.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "gui/model/lab_state.hpp"
#include "schema/kiln.pb.h"

namespace kiln::gui {

struct Point {
  double x = 0;
  double y = 0;
};

struct StepSpan {
  std::uint32_t index = 0;
  std::uint32_t phase = 0;
  std::string name;
  double start_s = 0;  // where its phase starts on the run's time axis
  double duration_s = 0;
};

// The run's steps laid out on its time axis.
struct RunLayout {
  std::uint64_t run_id = 0;
  std::string plan;
  double total_s = 0;
  std::vector<StepSpan> steps;

  static RunLayout from_plan(const kiln::v1::RunPlan& plan);
  const StepSpan* step(std::uint32_t index) const;
  const StepSpan* step_named(const std::string& name) const;
  double x_of(std::uint32_t step_index, double t_s) const;
  // Phase starts after the first: where the charts mark a step boundary.
  std::vector<double> boundaries() const;
};

// A step's limit on one metric in absolute units over the step's span.
struct LimitBand {
  std::string metric;
  double x0 = 0, x1 = 0;
  std::optional<double> min, max, marginal_min, marginal_max;
};

// Limits with `of: peak` are scaled by the chip's figure the limit names
// (StepLimit.peak_key); `of: peers` and `of: baseline` depend on other chips
// and runs, so they are not drawn.
std::vector<LimitBand> limit_bands(const kiln::v1::RunPlan& plan, const RunLayout& layout,
                                   const std::map<std::string, double>& peaks);

// Each step's peak figure for `metric` ("tflops" → "tflops.<the step's
// dtype>"), by step index: the metric catalog's rule, as the judge applies it.
std::unordered_map<std::uint32_t, std::string> step_peak_keys(const kiln::v1::RunPlan& plan, const std::string& metric);

class ChipSeries {
 public:
  static constexpr std::size_t kMaxPoints = 50000;  // per metric; the oldest half goes beyond it

  ChipSeries() = default;
  ChipSeries(std::string serial, RunLayout layout) : serial_(std::move(serial)), layout_(std::move(layout)) {}

  const std::string& serial() const { return serial_; }
  const RunLayout& layout() const { return layout_; }
  std::uint64_t run_id() const { return layout_.run_id; }

  // The stored series of this chip (the typed TELEMETRY answer). Returns points used.
  std::size_t load_series(const kiln::v1::TelemetrySeries& telemetry);
  // A live sample of this chip; ignored if it is of another run or not newer.
  bool append(const LabState& lab, const ChipState& chip);

  const std::vector<Point>* series(const std::string& metric) const;
  std::vector<std::string> metrics() const;
  double last_x() const { return last_x_; }
  // The latest value of a metric (for a counter: the run's count so far, as its chart ends).
  std::optional<double> last_value(const std::string& metric) const;

 private:
  void add(const std::string& metric, double x, double y);

  std::string serial_;
  RunLayout layout_;
  std::map<std::string, std::vector<Point>> series_;
  double last_x_ = -1;
};

// At most max_points of `points` within [x0, x1], keeping each bucket's
// minimum and maximum so spikes survive (what an engineer looks for).
std::vector<Point> decimate(const std::vector<Point>& points, double x0, double x1, std::size_t max_points);

}  // namespace kiln::gui
