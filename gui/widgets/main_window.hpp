#pragma once
// The dashboard's window: tabs for the lab, a chip, runs, alarms and schedules; menus
// and shortcuts; the connection state in the status bar; layout and the
// last daemon remembered between sessions (QSettings).

#include <QMainWindow>

class QLabel;
class QTabWidget;

namespace kiln::gui {

class AlarmsView;
class ChipView;
class Dashboard;
class LabPage;
class RunsView;
class SchedulesView;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  enum Tab { kLabTab, kChipTab, kRunsTab, kAlarmsTab, kSchedulesTab };

  explicit MainWindow(Dashboard& dashboard, QWidget* parent = nullptr);

  void show_lab();
  void show_chip(const QString& serial);
  void show_run(quint64 run_id);
  void show_alarms();
  void show_runs();
  void show_schedules();
  void open_connection_dialog();
  void open_submit_dialog();

  LabPage& lab_page() { return *lab_; }
  ChipView& chip_view() { return *chip_; }
  RunsView& runs_view() { return *runs_; }
  AlarmsView& alarms_view() { return *alarms_; }
  SchedulesView& schedules_view() { return *schedules_; }
  QString link_text() const;

  void restore_settings();
  void save_settings() const;

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_menus();
  void update_link();
  void update_alarm_count(int unacknowledged);

  Dashboard& dashboard_;
  QTabWidget* tabs_;
  LabPage* lab_;
  ChipView* chip_;
  RunsView* runs_;
  AlarmsView* alarms_;
  SchedulesView* schedules_;
  QLabel* link_label_;
  QLabel* alarm_label_;
};

}  // namespace kiln::gui
