#pragma once
// One chart of the chip view: one or more metrics of a chip over its run,
// with the step names and boundaries on the top axis and the steps' limit
// bands shaded (marginal amber, failing red). Wheel zooms the time axis
// around the cursor, a drag selects a span to zoom to, right-drag or the
// arrow keys pan, a double-click goes back to the whole run. Drawn from
// stored roll-ups, each line is its averages inside a min–max band; drawn
// from raw values, just the line (gui/model/chip_rollups.hpp decides).

#include <QtCharts/QChartView>

#include <string>
#include <vector>

#include <optional>
#include <utility>

#include "gui/model/chip_rollups.hpp"
#include "gui/model/chip_series.hpp"

class QLineSeries;
class QValueAxis;
class QCategoryAxis;
class QAreaSeries;

namespace kiln::gui {

struct ChartSpec {
  QString title;
  QString unit;
  std::vector<std::string> metrics;  // drawn as lines; a metric with no data is left out
  std::string limits_of;             // the metric whose limits are shaded ("" for none)
};

class MetricChart : public QChartView {
  Q_OBJECT

 public:
  static constexpr std::size_t kMaxPointsShown = 1500;

  explicit MetricChart(ChartSpec spec, QWidget* parent = nullptr);

  const ChartSpec& spec() const { return spec_; }
  // A new run: its steps on the time axis, its limits as bands; zoom resets.
  void set_run(const RunLayout& layout, const std::vector<LimitBand>& bands);
  // Redraws the lines from the series (decimated to the visible span).
  void set_data(const ChipSeries& series);
  // The same from roll-ups where there are any (`rollups` may be null), with
  // the raw values of `raw_span` when they were fetched for a zoomed span.
  void set_data(const ChipSeries* series, const ChipRollups* rollups,
                std::optional<std::pair<double, double>> raw_span);
  double x_min() const;
  double x_max() const;
  // Points drawn in min–max bands (0: every line is raw values).
  std::size_t band_points() const;
  void set_x_range(double x0, double x1, bool zoomed);
  void reset_zoom();
  bool zoomed() const { return zoomed_; }
  std::size_t points_shown() const;

 signals:
  void xRangeChanged(double x0, double x1, bool zoomed);

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void add_band(double x0, double x1, double lo, double hi, const QColor& colour);
  void apply_x(double x0, double x1, bool zoomed, bool notify);
  void redraw();
  void lay_out_legend();
  double full_end() const;

  ChartSpec spec_;
  QValueAxis* x_;
  QValueAxis* y_;
  QCategoryAxis* steps_;
  std::vector<QLineSeries*> lines_;
  std::vector<QAreaSeries*> line_bands_;  // per metric: its roll-ups' min–max
  std::vector<QAbstractSeries*> bands_;
  std::vector<LimitBand> limits_;
  RunLayout layout_;
  const ChipSeries* series_ = nullptr;
  const ChipRollups* rollups_ = nullptr;
  std::optional<std::pair<double, double>> raw_span_;
  bool zoomed_ = false;
  double last_x_ = 0;
  QPoint pan_from_;
  bool panning_ = false;
  bool setting_range_ = false;  // our own range change, not the rubber band's
};

}  // namespace kiln::gui
