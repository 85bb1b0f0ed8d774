#pragma once
// The drift chart of the chip view: each aging figure of one serial over its
// judged runs, as its change from the first run in percent, so TFLOPS, GB/s
// and °C/W share one axis. A figure that drifted past the policy's threshold
// is drawn thick and red, with the finding in the legend (docs/lifecycle.md).

#include <QtCharts/QChartView>

#include "gui/model/drift_trend.hpp"

namespace kiln::gui {

class DriftChart : public QChartView {
  Q_OBJECT

 public:
  explicit DriftChart(QWidget* parent = nullptr);

  void set_trend(const DriftTrend& trend);
  const DriftTrend& trend() const { return trend_; }
  // What the chart says in words (for tests and the accessible name).
  QString summary() const;

 private:
  DriftTrend trend_;
};

}  // namespace kiln::gui
