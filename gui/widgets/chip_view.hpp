#pragma once
// One chip: live charts of its run (temperature, power, clock, TFLOPS, HBM
// and per-link bandwidth, error counters) with limit bands and step
// boundaries, all charts zooming together; its failures with class,
// location and conditions; and this serial's run history across racks.
// Whole-run charts draw the stored roll-ups (Query ROLLUPS); zoomed in far
// enough, the raw values of the visible span (TELEMETRY with time windows);
// a daemon without roll-ups gives the raw values of the whole run.

#include <QWidget>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "gui/model/chip_rollups.hpp"
#include "gui/model/chip_series.hpp"
#include "gui/model/report_data.hpp"

class QLabel;
class QStackedWidget;
class QTableWidget;
class QTimer;

namespace kiln::gui {

class DriftChart;

class Dashboard;
class MetricChart;

class ChipView : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kRedrawMs = 250;
  static constexpr int kZoomSettleMs = 150;  // a wheel's run of zoom steps asks once
  // How a request reaches the daemon: Dashboard::ask unless replaced (a
  // benchmark or a test answers from a store, or as an older daemon would).
  using AskFn = std::function<void(kiln::v1::Envelope, std::function<void(const Result<kiln::v1::QueryReply>&)>)>;

  explicit ChipView(Dashboard& dashboard, QWidget* parent = nullptr);
  void set_ask(AskFn ask) { ask_ = std::move(ask); }

  void open(const QString& serial);
  const QString& serial() const { return serial_; }
  // True once the run's layout and stored telemetry have arrived (or there is no run).
  bool loaded() const { return loaded_; }
  const ChipSeries* series() const { return series_.get(); }
  // The stored roll-ups the whole-run charts draw; null when the daemon has
  // none (the charts then draw raw values, at most ChipSeries::kMaxPoints).
  const ChipRollups* rollups() const { return rollups_.get(); }
  // The span whose raw values the zoomed charts draw, once fetched.
  std::optional<std::pair<double, double>> raw_span() const { return raw_span_; }
  // Every chart to [x0, x1] (zoomed unless it is the whole run), and the
  // raw values of that span asked for at once if they fit.
  void zoom_to(double x0, double x1);
  // After a zoom settles: ask for the visible span's raw values if they fit.
  void update_zoom();
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
  void load_rollups(std::uint64_t run_id);
  void load_raw(std::uint64_t run_id, const QString& why);
  void ask(kiln::v1::Envelope envelope, std::function<void(const Result<kiln::v1::QueryReply>&)> on_answer);
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
  std::unique_ptr<ChipRollups> rollups_;
  std::optional<std::pair<double, double>> raw_span_;
  QString run_status_;                // what the status line says about the run's data
  double view_x0_ = 0, view_x1_ = 0;  // the charts' visible span
  bool view_zoomed_ = false;
  std::uint64_t window_asked_ = 0;  // the latest raw window asked for; older answers are dropped
  QTimer* zoom_timer_ = nullptr;
  AskFn ask_;
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
