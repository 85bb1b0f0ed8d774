#pragma once
// Schedules (F7): every schedule the daemon keeps, with its cron expression
// and time zone, targets, next fire time and last result (the last run's
// status from the runs list, or the daemon's outcome). A daemon that does
// not answer SCHEDULES (an older one) is said in one quiet line. Double-click
// (or Enter) on a schedule that submitted a run opens that run.

#include <QWidget>

class QLabel;
class QTableWidget;

namespace kiln::gui {

class Dashboard;

class SchedulesView : public QWidget {
  Q_OBJECT

 public:
  enum Column { kName, kPlan, kWhen, kTargets, kNext, kLast, kResult, kCreatedBy, kColumns };

  explicit SchedulesView(Dashboard& dashboard, QWidget* parent = nullptr);
  QTableWidget& table() { return *table_; }
  QString status_text() const;

 signals:
  void runRequested(quint64 run_id);

 private:
  void rebuild();
  void open(int row);

  Dashboard& dashboard_;
  QLabel* status_;
  QTableWidget* table_;
};

}  // namespace kiln::gui
