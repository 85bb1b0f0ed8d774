#pragma once
// The lab tab: the colouring chooser, a "failing / suspect only" filter, a
// lifecycle-state filter, a search by serial, a one-line census (how many
// chips run, pass, fail, are stale; in the lifecycle colouring how many are
// in each state) and the legend around the LabView, which scrolls when zoomed.

#include <QWidget>

#include "gui/model/lifecycle_states.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QScrollArea;
class QToolButton;

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
  QToolButton& states() { return *states_; }
  // Only chips in these lifecycle states (the menu's checks follow).
  void set_state_filter(StateSet states);
  QScrollArea& scroll() { return *scroll_; }

 private:
  void update_census();
  void update_legend();
  void find();
  void update_states_button();

  Dashboard& dashboard_;
  LabView* view_;
  QScrollArea* scroll_;
  QComboBox* mode_;
  QCheckBox* problems_only_;
  QToolButton* states_;
  QLineEdit* search_;
  QLabel* census_;
  QWidget* legend_;
};

}  // namespace kiln::gui
