#include "gui/widgets/lab_view.hpp"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QScrollArea>
#include <QTimer>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "gui/dashboard.hpp"
#include "metrics/catalog.hpp"

namespace kiln::gui {

namespace {
constexpr int kMargin = 8;
constexpr int kBlockGap = 10;  // between racks' grids
constexpr int kPad = 3;        // inside a rack's frame
constexpr int kHeader = 18;    // a rack's name line
// Ages keep growing without any update: repaint now and then so greying shows.
constexpr int kAgeRepaintMs = 1000;

// Cell sizes, largest first: labelled ones (slot and serial over the
// figure), then plain squares down to what a 16,384-chip lab needs.
struct CellSize {
  int w, h;
};
constexpr CellSize kSizes[] = {{220, 56}, {180, 48}, {150, 40}, {128, 38}, {112, 36}, {96, 34}, {84, 32},
                               {72, 30},  {30, 30},  {26, 26},  {22, 22},  {18, 18},  {15, 15}, {12, 12},
                               {10, 10},  {8, 8},    {7, 7},    {6, 6},    {5, 5},    {4, 4},   {3, 3}};
constexpr int kSizeCount = static_cast<int>(std::size(kSizes));
constexpr int kLabelledWidth = 72;

int gap_for(const CellSize& c) { return c.w >= 10 ? 2 : 1; }

struct Arrangement {
  int size = -1;  // index into kSizes
  int cols = 1;   // cells per row in a rack's grid
  int per_row = 1;
  int block_w = 0, block_h = 0, total_h = 0;
};

// The rack grids for `blocks` racks of at most `cells` chips with cells of
// size `size`, as `cols` per row, in a width of `avail_w`.
Arrangement arrange(int size, int cols, int cells, int blocks, int avail_w) {
  const CellSize c = kSizes[size];
  const int g = gap_for(c);
  Arrangement a;
  a.size = size;
  a.cols = cols;
  const int rows = (cells + cols - 1) / cols;
  a.block_w = cols * (c.w + g) - g + 2 * kPad;
  a.block_h = kHeader + rows * (c.h + g) - g + kPad;
  a.per_row = std::max(1, (avail_w + kBlockGap) / (a.block_w + kBlockGap));
  const int block_rows = (blocks + a.per_row - 1) / a.per_row;
  a.total_h = block_rows * (a.block_h + kBlockGap) - kBlockGap;
  return a;
}

// The arrangement of cell size `size` that fits the width and is shortest.
Arrangement shortest(int size, int cells, int blocks, int avail_w) {
  Arrangement best;
  for (int cols = 1; cols <= std::max(1, cells); ++cols) {
    const Arrangement a = arrange(size, cols, cells, blocks, avail_w);
    if (a.block_w > avail_w && cols > 1) break;
    if (best.size < 0 || a.total_h < best.total_h) best = a;
  }
  return best;
}

QString figure(double v, const char* unit, int precision = 0) {
  return std::isnan(v) ? QStringLiteral("n/a") : QStringLiteral("%1 %2").arg(v, 0, 'f', precision).arg(unit);
}
}  // namespace

int problem_rank(const LabState& lab, const ChipState& chip) {
  const std::string& v = chip.verdict;
  if (v == "fail") return 0;
  if (v == "error") return 1;
  if (v == "over_limit") return 2;
  if (v == "marginal") return 3;
  if (v == "inconclusive") return 4;
  if (v == "running") {
    // Not judged yet, but counting errors (a detection is raised as an alarm at once).
    for (const std::uint32_t id : lab.error_metric_ids()) {
      if (lab.value(chip, id) > 0) return 5;
    }
  }
  return kHealthy;
}

LabView::LabView(Dashboard& dashboard, QWidget* parent) : QWidget(parent), dashboard_(dashboard) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(320, 200);
  connect(&dashboard_, &Dashboard::labUpdated, this, &LabView::on_lab_updated);
  connect(&dashboard_, &Dashboard::layoutChanged, this, [this] {
    relayout();
    update();
  });
  connect(&dashboard_, &Dashboard::lifecycleUpdated, this, [this] {
    if (!states_.is_all()) relayout();
    update();
  });
  auto* ages = new QTimer(this);
  connect(ages, &QTimer::timeout, this, qOverload<>(&QWidget::update));
  ages->start(kAgeRepaintMs);
}

void LabView::set_mode(ColourMode mode) {
  mode_ = mode;
  update();
}

void LabView::set_problems_only(bool on) {
  problems_only_ = on;
  relayout();
  update();
}

void LabView::set_state_filter(StateSet states) {
  states_ = states;
  relayout();
  update();
}

void LabView::set_failing_first(bool on) {
  failing_first_ = on;
  relayout();
  update();
}

void LabView::zoom_by(int steps) {
  zoom_ = std::clamp(zoom_ + steps, 0, kSizeCount - 1);
  relayout();
  update();
}

QString LabView::select(const QString& text) {
  const QString wanted = text.trimmed();
  if (wanted.isEmpty()) return {};
  const ChipState* found = nullptr;
  int containing = 0;
  for (const auto& chip : dashboard_.lab().chips()) {
    const QString serial = QString::fromStdString(chip.serial);
    if (serial.compare(wanted, Qt::CaseInsensitive) == 0) {
      found = &chip;
      containing = 1;
      break;
    }
    if (serial.contains(wanted, Qt::CaseInsensitive)) {
      found = &chip;
      ++containing;
    }
  }
  if (found == nullptr || containing != 1) return {};
  selected_ = QString::fromStdString(found->serial);
  update();
  emit chipSelected(selected_);
  return selected_;
}

void LabView::on_lab_updated() {
  // Verdicts move chips to the front of their rack (or into the filter):
  // lay out again only when some chip's rank changed.
  if (failing_first_ || problems_only_) {
    const LabState& lab = dashboard_.lab();
    bool changed = ranks_.size() != lab.chips().size();
    for (std::size_t i = 0; !changed && i < lab.chips().size(); ++i)
      changed = ranks_[i] != problem_rank(lab, lab.chips()[i]);
    if (changed) relayout();
  }
  update();
}

void LabView::resizeEvent(QResizeEvent*) { relayout(); }

void LabView::relayout() {
  const LabState& lab = dashboard_.lab();
  tiles_.assign(lab.chips().size(), QRect());
  ranks_.resize(lab.chips().size());
  for (std::size_t i = 0; i < lab.chips().size(); ++i)
    ranks_[i] = static_cast<std::uint8_t>(problem_rank(lab, lab.chips()[i]));
  blocks_.clear();
  shown_ = 0;
  // Each rack's chips that get a cell, in the order they are drawn.
  std::vector<std::vector<std::size_t>> shown(lab.racks().size());
  int cells = 1;
  for (std::size_t r = 0; r < lab.racks().size(); ++r) {
    for (const std::size_t c : lab.racks()[r].chips) {
      if (problems_only_ && ranks_[c] >= kHealthy) continue;
      const auto& state = lab.chips()[c].lifecycle;
      if (!states_.is_all() && !(state && states_.contains(*state))) continue;
      shown[r].push_back(c);
    }
    if (failing_first_) {
      std::stable_sort(shown[r].begin(), shown[r].end(),
                       [this](std::size_t a, std::size_t b) { return ranks_[a] < ranks_[b]; });
    }
    if (shown[r].empty()) continue;
    int problems = 0;
    for (const std::size_t c : lab.racks()[r].chips) problems += ranks_[c] < kHealthy ? 1 : 0;
    blocks_.push_back(Block{r, QRect(), problems});
    cells = std::max(cells, static_cast<int>(shown[r].size()));
  }
  if (blocks_.empty()) {
    setMinimumHeight(200);
    return;
  }
  const int avail_w = std::max(40, width() - 2 * kMargin);
  const int blocks = static_cast<int>(blocks_.size());
  // The largest cells with which every rack fits the window; zoomed: larger, and the page scrolls.
  int fit = kSizeCount - 1;
  Arrangement chosen;
  // In a scroll area, the window is its viewport (this widget grows past it when zoomed).
  const QWidget* viewport = parentWidget();
  const bool scrolled = viewport != nullptr && qobject_cast<const QScrollArea*>(viewport->parentWidget()) != nullptr;
  const int avail_h = std::max(40, (scrolled ? viewport->height() : height()) - 2 * kMargin);
  for (int size = 0; size < kSizeCount && chosen.size < 0; ++size) {
    // Of the grids that fit, the one with the fewest empty cells (8 × 8 for 64 chips, not 7 × 10 with one left over).
    int best_waste = 0;
    for (int cols = 1; cols <= cells; ++cols) {
      const Arrangement a = arrange(size, cols, cells, blocks, avail_w);
      if (a.block_w > avail_w) break;
      if (a.total_h > avail_h) continue;
      const int waste = (cells + cols - 1) / cols * cols - cells;
      if (chosen.size < 0 || waste < best_waste || (waste == best_waste && a.total_h < chosen.total_h)) {
        chosen = a;
        best_waste = waste;
        fit = size;
      }
    }
  }
  if (chosen.size < 0) chosen = shortest(fit, cells, blocks, avail_w);
  if (zoom_ > 0) chosen = shortest(std::max(0, fit - zoom_), cells, blocks, avail_w);
  const bool scrolls = chosen.total_h > avail_h;
  setMinimumHeight(scrolls ? chosen.total_h + 2 * kMargin : 200);

  const CellSize c = kSizes[chosen.size];
  const int g = gap_for(c);
  const int used_w = std::min(chosen.per_row, blocks) * (chosen.block_w + kBlockGap) - kBlockGap;
  const int left = kMargin + std::max(0, (avail_w - used_w) / 2);
  for (int b = 0; b < blocks; ++b) {
    Block& block = blocks_[static_cast<std::size_t>(b)];
    const int x = left + (b % chosen.per_row) * (chosen.block_w + kBlockGap);
    const int y = kMargin + (b / chosen.per_row) * (chosen.block_h + kBlockGap);
    block.header = QRect(x, y, chosen.block_w, chosen.block_h);
    const auto& chips = shown[block.rack];
    for (std::size_t i = 0; i < chips.size(); ++i) {
      const int col = static_cast<int>(i) % chosen.cols, row = static_cast<int>(i) / chosen.cols;
      tiles_[chips[i]] = QRect(x + kPad + col * (c.w + g), y + kHeader + row * (c.h + g), c.w, c.h);
    }
    shown_ += chips.size();
  }
  labels_ = c.w >= kLabelledWidth;
}

void LabView::paintEvent(QPaintEvent* event) {
  QPainter p(this);
  p.fillRect(event->rect(), palette().window());
  const LabState& lab = dashboard_.lab();
  if (tiles_.size() != lab.chips().size()) relayout();
  if (lab.chips().empty() || blocks_.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    QString text = dashboard_.link().phase == LinkPhase::connected ? tr("No racks registered with the daemon yet")
                                                                   : tr("Not connected to a daemon");
    if (!lab.chips().empty() && problems_only_)
      text = tr("No chip is failing or suspect: every one of the %1 is hidden by the filter").arg(lab.chips().size());
    if (!lab.chips().empty() && !states_.is_all())
      text = tr("No chip is in the lifecycle states chosen: every one of the %1 is hidden by the filter")
                 .arg(lab.chips().size());
    p.drawText(rect(), Qt::AlignCenter, text);
    return;
  }
  const std::int64_t now = Dashboard::local_now_ms();
  QFont small = font();
  small.setPointSizeF(std::max(7.0, font().pointSizeF() * 0.85));
  QFont bold = small;
  bold.setBold(true);
  const QFontMetrics bfm(bold);
  const QRect dirty = event->rect();
  const auto& racks = lab.racks();
  for (const Block& block : blocks_) {
    if (!block.header.intersects(dirty)) continue;
    const QRect frame = block.header;
    p.setPen(palette().color(QPalette::Mid));
    p.setBrush(Qt::NoBrush);
    p.drawRect(frame.adjusted(0, 0, -1, -1));
    const QRect line(frame.left() + kPad, frame.top(), frame.width() - 2 * kPad, kHeader);
    p.setPen(Qt::NoPen);
    p.setBrush(racks[block.rack].connected ? QColor(0x2e, 0x9e, 0x4f) : QColor(0xd6, 0x27, 0x28));
    p.drawEllipse(QPoint(line.left() + 4, line.center().y()), 3, 3);
    p.setFont(bold);
    const QRect text_rect = line.adjusted(10, 0, 0, 0);
    // How many of the rack's chips need a look, in words where there is room.
    QString problems;
    if (block.problems > 0) {
      problems = tr("%1 to look at").arg(block.problems);
      if (bfm.horizontalAdvance(problems) + bfm.horizontalAdvance(QStringLiteral("r000 ")) > text_rect.width())
        problems = QStringLiteral("%1!").arg(block.problems);
    }
    const QString name = bfm.elidedText(QString::fromStdString(racks[block.rack].rack), Qt::ElideRight,
                                        std::max(0, text_rect.width() - bfm.horizontalAdvance(problems)));
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(text_rect, Qt::AlignLeft | Qt::AlignVCenter, name);
    if (!problems.isEmpty()) {
      p.setPen(verdict_colour("fail"));
      p.drawText(text_rect, Qt::AlignRight | Qt::AlignVCenter, problems);
    }
  }
  p.setFont(small);
  const QFontMetrics fm(small);
  for (std::size_t i = 0; i < lab.chips().size(); ++i) {
    const QRect& r = tiles_[i];
    if (r.isNull() || !r.intersects(dirty)) continue;
    const ChipState& chip = lab.chips()[i];
    const TileLook look = tile_look(lab, chip, mode_, now, labels_);
    p.fillRect(r, look.fill);
    if (!labels_) continue;
    p.setPen(look.text);
    const QRect inner = r.adjusted(4, 1, -3, -1);
    const QString top = QStringLiteral("%1  %2").arg(chip.slot).arg(QString::fromStdString(chip.serial));
    p.drawText(inner, Qt::AlignLeft | Qt::AlignTop, fm.elidedText(top, Qt::ElideRight, inner.width()));
    const QString bottom = look.stale ? look.age : look.value;
    p.drawText(inner, Qt::AlignLeft | Qt::AlignBottom, fm.elidedText(bottom, Qt::ElideRight, inner.width()));
  }
  if (!selected_.isEmpty()) {
    const QRect r = tile_rect(selected_.toStdString());
    if (!r.isNull()) {
      // Dark and light rings: visible on any fill.
      p.setBrush(Qt::NoBrush);
      p.setPen(QPen(Qt::black, 2));
      p.drawRect(r.adjusted(-2, -2, 1, 1));
      p.setPen(QPen(Qt::white, 1));
      p.drawRect(r.adjusted(-1, -1, 0, 0));
    }
  }
}

const ChipState* LabView::chip_at(const QPoint& pos) const {
  const LabState& lab = dashboard_.lab();
  for (std::size_t i = 0; i < tiles_.size() && i < lab.chips().size(); ++i) {
    if (tiles_[i].contains(pos)) return &lab.chips()[i];
  }
  return nullptr;
}

QRect LabView::tile_rect(const std::string& serial) const {
  auto index = dashboard_.lab().index_of(serial);
  return index && *index < tiles_.size() ? tiles_[*index] : QRect();
}

void LabView::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  if (const ChipState* chip = chip_at(event->position().toPoint()))
    emit chipActivated(QString::fromStdString(chip->serial));
}

void LabView::wheelEvent(QWheelEvent* event) {
  if (!(event->modifiers() & Qt::ControlModifier)) {
    event->ignore();  // the page scrolls
    return;
  }
  zoom_by(event->angleDelta().y() > 0 ? 1 : -1);
  event->accept();
}

void LabView::keyPressEvent(QKeyEvent* event) {
  if (event->modifiers() & Qt::ControlModifier) {
    if (event->key() == Qt::Key_Plus || event->key() == Qt::Key_Equal) return zoom_by(1);
    if (event->key() == Qt::Key_Minus) return zoom_by(-1);
    if (event->key() == Qt::Key_0) return zoom_by(-zoom_);
  }
  QWidget::keyPressEvent(event);
}

QString LabView::tooltip_for(const ChipState& chip) const {
  const LabState& lab = dashboard_.lab();
  const ChipFigures f = figures_of(lab, chip);
  const std::int64_t age = lab.age_ms(chip, Dashboard::local_now_ms());
  QString text = QStringLiteral("<b>%1</b> — rack %2 slot %3 (%4)<br>")
                     .arg(QString::fromStdString(chip.serial), QString::fromStdString(chip.rack))
                     .arg(chip.slot)
                     .arg(QString::fromStdString(chip.sku));
  text += tr("lifecycle: <b>%1</b><br>").arg(lifecycle_name(chip.lifecycle));
  if (chip.run_id != 0) {
    text += QStringLiteral("run %1, step %2: <b>%3</b><br>")
                .arg(chip.run_id)
                .arg(QString::fromStdString(chip.step), QString::fromStdString(chip.verdict));
    if (!chip.concern.empty()) text += QString::fromStdString(chip.concern).toHtmlEscaped() + QStringLiteral("<br>");
  } else {
    text += tr("not in a run") + QStringLiteral("<br>");
  }
  text += QStringLiteral("temperature %1 · power %2 · clock %3<br>")
              .arg(figure(f.temperature_c, "°C", 1), figure(f.power_w, "W"), figure(f.clock_mhz, "MHz"));
  const auto dot = f.tflops_peak_key.find('.');
  const std::string dtype = dot == std::string::npos ? std::string() : f.tflops_peak_key.substr(dot + 1) + " ";
  text += QStringLiteral("TFLOPS %1 (%2) · HBM %3<br>")
              .arg(figure(f.tflops, ""), figure(f.tflops_pct, ("% of " + dtype + "peak").c_str()),
                   figure(lab.value(chip, metrics::kHbmGbps.str()), "GB/s"));
  text += QStringLiteral("errors %1%2<br>")
              .arg(figure(f.errors, ""))
              .arg(f.throttled ? tr(" · <b>throttled</b>") : QString());
  text += age < 0 ? tr("no sample yet") : tr("last sample %1 ago").arg(short_age(age));
  if (!lab.rack_connected(chip))
    text += tr("<br><b>agent of rack %1 is not connected</b>").arg(QString::fromStdString(chip.rack));
  return text;
}

bool LabView::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (const ChipState* chip = chip_at(help->pos())) {
      QToolTip::showText(help->globalPos(), tooltip_for(*chip), this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace kiln::gui
