#pragma once
// The lab at a glance: racks as columns, chips as tiles by slot, each
// labelled with slot and serial and coloured by the chosen colouring. Paints
// straight from the LabState (no item per chip), so thousands of tiles cost
// one pass. Hover shows a chip's key figures; a click opens it.

#include <QWidget>

#include <vector>

#include "gui/widgets/tile_style.hpp"

namespace kiln::gui {

class Dashboard;

class LabView : public QWidget {
  Q_OBJECT

 public:
  explicit LabView(Dashboard& dashboard, QWidget* parent = nullptr);

  void set_mode(ColourMode mode);
  ColourMode mode() const { return mode_; }
  // The chip under a widget position, if any.
  const ChipState* chip_at(const QPoint& pos) const;
  // Where a chip's tile is drawn (empty if it is not placed).
  QRect tile_rect(const std::string& serial) const;
  QString tooltip_for(const ChipState& chip) const;
  QSize sizeHint() const override { return {900, 600}; }

 signals:
  void chipActivated(QString serial);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void relayout();

  Dashboard& dashboard_;
  ColourMode mode_ = ColourMode::verdict;
  std::vector<QRect> tiles_;    // by chip index; empty rect: not placed
  std::vector<QRect> headers_;  // by rack
  bool labels_ = true;
};

}  // namespace kiln::gui
