#pragma once
// One chip: live charts of its run (temperature, power, clock, TFLOPS, HBM
// and per-link bandwidth, error counters) with limit bands and step
// boundaries, all charts zooming together; its failures with class,
// location and conditions; and this serial's run history across racks.

#include <QWidget>

#include <memory>
#include <string>
#include <vector>

#include "gui/model/chip_series.hpp"
#include "gui/model/report_data.hpp"

class QLabel;
class QStackedWidget;
class QTableWidget;

namespace kiln::gui {

class DriftChart;

class Dashboard;
class MetricChart;

class ChipView : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kRedrawMs = 250;

  explicit ChipView(Dashboard& dashboard, QWidget* parent = nullptr);

  void open(const QString& serial);
  const QString& serial() const { return serial_; }
  // True once the run's layout and stored telemetry have arrived (or there is no run).
  bool loaded() const { return loaded_; }
  const ChipSeries* series() const { return series_.get(); }
  const std::vector<MetricChart*>& charts() const { return charts_; }
  // What the header and the status line say (for tests).
  QString header_text() const;
  QString status_text() const;
  // True while no chip is open: the tab says how to open one instead of blank axes.
  bool showing_hint() const;
  // The serial's drift over its runs (from the CHIP answer).
  const DriftChart* drift() const { return drift_; }
  // The failures table's rows as text, "class | step | count | location".
  QStringList failure_rows() const;

 signals:
  void runRequested(quint64 run_id);

 private:
  void load_run(std::uint64_t run_id);
  void load_report(std::uint64_t run_id);
  void load_history();
  void on_lab_updated();
  void redraw();
  void update_header();
  void show_failures();

  Dashboard& dashboard_;
  QString serial_;
  std::uint64_t run_id_ = 0;
  std::string verdict_seen_;
  std::unique_ptr<ChipSeries> series_;
  std::vector<FailureInfo> failures_judged_;  // from the run's report
  std::vector<MetricChart*> charts_;
  QStackedWidget* pages_;
  QLabel* hint_;
  QWidget* body_;
  QLabel* header_;
  QLabel* status_;
  QTableWidget* failures_;
  QTableWidget* history_;
  DriftChart* drift_;
  std::uint64_t generation_ = 0;  // replies for a chip no longer shown are dropped
  bool dirty_ = false;
  bool loaded_ = false;
};

}  // namespace kiln::gui
