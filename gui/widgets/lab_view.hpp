#pragma once
// The lab at a glance, readable from a handful of chips to thousands: a
// compact grid per rack (its name, connection dot and problem count above
// it) in which every chip is a cell, coloured by the chosen colouring. Cells
// are as large as the window allows; large ones are labelled with slot,
// serial and figure, small ones show their serial on hover, and Ctrl+wheel
// (or Ctrl +/-) zooms in until they are labelled (the page scrolls). Within
// a rack, failing and suspect chips come first; a filter shows only them;
// a search by serial selects a chip; another keeps the chips in chosen
// lifecycle states. Paints straight from the LabState (no
// item per chip), so thousands of cells cost one pass.

#include <QWidget>

#include <cstdint>
#include <vector>

#include "gui/widgets/tile_style.hpp"

namespace kiln::gui {

class Dashboard;

// How much a chip needs a look: 0 fail, 1 error, 2 over a limit so far,
// 3 marginal, 4 inconclusive, 5 counting errors while running; 6 healthy.
int problem_rank(const LabState& lab, const ChipState& chip);
inline constexpr int kHealthy = 6;

class LabView : public QWidget {
  Q_OBJECT

 public:
  explicit LabView(Dashboard& dashboard, QWidget* parent = nullptr);

  void set_mode(ColourMode mode);
  ColourMode mode() const { return mode_; }
  // Only failing and suspect chips get a cell (racks without any are left out).
  void set_problems_only(bool on);
  bool problems_only() const { return problems_only_; }
  // Only chips in these lifecycle states get a cell (all: no filter; a chip
  // whose state the daemon has not said is shown only then).
  void set_state_filter(StateSet states);
  StateSet state_filter() const { return states_; }
  // Failing and suspect chips first within each rack (the default), or all by slot.
  void set_failing_first(bool on);
  bool failing_first() const { return failing_first_; }
  // Selects the chip whose serial is `text` (case-insensitive), or the only
  // one containing it; returns its serial, empty when none or several match.
  QString select(const QString& text);
  const QString& selected_serial() const { return selected_; }
  // Zoom steps above "fit the window" (0); more steps: larger, labelled cells.
  void zoom_by(int steps);
  int zoom() const { return zoom_; }

  // The chip under a widget position, if any.
  const ChipState* chip_at(const QPoint& pos) const;
  // Where a chip's cell is drawn (empty if it has none: not placed, or filtered out).
  QRect tile_rect(const std::string& serial) const;
  std::size_t cells_shown() const { return shown_; }
  bool labelled() const { return labels_; }
  QString tooltip_for(const ChipState& chip) const;
  QSize sizeHint() const override { return {900, 600}; }

 signals:
  void chipActivated(QString serial);
  void chipSelected(QString serial);  // by a search: the page scrolls to it

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool event(QEvent* event) override;

 private:
  struct Block {
    std::size_t rack = 0;
    QRect header;
    int problems = 0;
  };
  void relayout();
  void on_lab_updated();

  Dashboard& dashboard_;
  ColourMode mode_ = ColourMode::verdict;
  bool problems_only_ = false;
  StateSet states_ = StateSet::all();
  bool failing_first_ = true;
  int zoom_ = 0;
  std::vector<QRect> tiles_;  // by chip index; empty rect: no cell
  std::vector<Block> blocks_;
  std::vector<std::uint8_t> ranks_;  // by chip index, as last laid out
  std::size_t shown_ = 0;
  bool labels_ = true;
  QString selected_;
};

}  // namespace kiln::gui
