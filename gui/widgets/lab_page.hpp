#pragma once
// The lab tab: the colouring chooser, a "failing / suspect only" filter, a
// search by serial, a one-line census (how many chips run, pass, fail, are
// stale) and the legend around the LabView, which scrolls when zoomed.

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QScrollArea;

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
  QCheckBox& problems_only() { return *problems_only_; }
  QLineEdit& search() { return *search_; }
  QScrollArea& scroll() { return *scroll_; }

 private:
  void update_census();
  void update_legend();
  void find();

  Dashboard& dashboard_;
  LabView* view_;
  QScrollArea* scroll_;
  QComboBox* mode_;
  QCheckBox* problems_only_;
  QLineEdit* search_;
  QLabel* census_;
  QWidget* legend_;
};

}  // namespace kiln::gui
