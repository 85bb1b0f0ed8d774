#pragma once
// Runs: queued, running and finished runs with progress and ETA; the
// selected run's chips × steps verdict matrix (refreshed while it runs);
// abort with confirmation.

#include <QWidget>

#include <cstdint>

#include "gui/model/report_data.hpp"

class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;
class QLineEdit;

namespace kiln::gui {

class Dashboard;
class RunsModel;
class VerdictFilterModel;
class VerdictTableModel;

class RunsView : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kMatrixRefreshMs = 2000;

  explicit RunsView(Dashboard& dashboard, QWidget* parent = nullptr);

  void select_run(quint64 run_id);
  quint64 selected_run() const { return selected_; }
  bool matrix_loaded() const { return matrix_loaded_; }
  // Asks for confirmation, then sends AbortRun.
  void abort_selected();
  // Shows a run's verdicts (what a REPORT query answered).
  void show_matrix(const VerdictMatrix& matrix);
  // The verdict table as shown (sorted and filtered) and its filter box.
  QTableView* verdict_table() const { return matrix_; }
  QLineEdit* verdict_filter() const { return filter_; }

 signals:
  void chipRequested(QString serial);

 private:
  void load_matrix();
  void update_detail();

  Dashboard& dashboard_;
  RunsModel* model_;
  QTableView* table_;
  QLabel* title_;
  QProgressBar* progress_;
  QPushButton* abort_;
  VerdictTableModel* verdicts_;
  VerdictFilterModel* shown_;
  QLineEdit* filter_;
  QTableView* matrix_;
  quint64 selected_ = 0;
  std::uint64_t generation_ = 0;
  bool matrix_loaded_ = false;
  QString verdict_summary_;  // "15 pass · 1 fail" of the matrix shown
};

}  // namespace kiln::gui
