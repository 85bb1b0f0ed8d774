#pragma once
// The lab tab: the colouring chooser, a one-line census (how many chips
// run, pass, fail, are stale) and the legend around the LabView.

#include <QWidget>

class QComboBox;
class QLabel;

namespace kiln::gui {

class Dashboard;
class LabView;

class LabPage : public QWidget {
  Q_OBJECT

 public:
  explicit LabPage(Dashboard& dashboard, QWidget* parent = nullptr);
  LabView& view() { return *view_; }
  void set_mode_index(int index);
  int mode_index() const;

 private:
  void update_census();
  void update_legend();

  Dashboard& dashboard_;
  LabView* view_;
  QComboBox* mode_;
  QLabel* census_;
  QWidget* legend_;
};

}  // namespace kiln::gui
