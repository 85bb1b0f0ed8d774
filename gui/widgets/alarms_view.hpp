#pragma once
// Alarms: new failures, throttling, agents gone silent or lost, newest
// first; unacknowledged ones in bold. Acknowledge one or all; double-click
// (or Enter) jumps to the chip, or to the rack's chips for agent alarms.

#include <QWidget>

class QTableWidget;
class QPushButton;

namespace kiln::gui {

class Dashboard;

class AlarmsView : public QWidget {
  Q_OBJECT

 public:
  explicit AlarmsView(Dashboard& dashboard, QWidget* parent = nullptr);
  void acknowledge_selected();
  void acknowledge_all();

 signals:
  void chipRequested(QString serial);
  void labRequested();
  void unacknowledgedChanged(int count);

 private:
  void rebuild();
  void jump(int row);

  Dashboard& dashboard_;
  QTableWidget* table_;
  QPushButton* ack_;
  QPushButton* ack_all_;
};

}  // namespace kiln::gui
