#include "gui/widgets/lab_view.hpp"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QTimer>
#include <QToolTip>

#include <algorithm>
#include <cmath>

#include "gui/dashboard.hpp"
#include "metrics/catalog.hpp"

namespace kiln::gui {

namespace {
constexpr int kMargin = 8;
constexpr int kHeader = 22;
constexpr int kGap = 3;
constexpr int kMaxColumn = 240;  // a few racks should not stretch into unreadable bars
constexpr int kMaxTileHeight = 64;
// Ages keep growing without any update: repaint now and then so greying shows.
constexpr int kAgeRepaintMs = 1000;

QString figure(double v, const char* unit, int precision = 0) {
  return std::isnan(v) ? QStringLiteral("n/a") : QStringLiteral("%1 %2").arg(v, 0, 'f', precision).arg(unit);
}
}  // namespace

LabView::LabView(Dashboard& dashboard, QWidget* parent) : QWidget(parent), dashboard_(dashboard) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setMinimumSize(320, 200);
  connect(&dashboard_, &Dashboard::labUpdated, this, qOverload<>(&QWidget::update));
  connect(&dashboard_, &Dashboard::layoutChanged, this, [this] {
    relayout();
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

void LabView::resizeEvent(QResizeEvent*) { relayout(); }

void LabView::relayout() {
  const LabState& lab = dashboard_.lab();
  tiles_.assign(lab.chips().size(), QRect());
  headers_.clear();
  const auto& racks = lab.racks();
  if (racks.empty()) return;
  std::size_t rows = 1;
  for (const auto& r : racks) rows = std::max(rows, r.chips.size());
  const int columns = static_cast<int>(racks.size());
  const int avail_w = width() - 2 * kMargin;
  const int avail_h = height() - 2 * kMargin - kHeader;
  const int col_w = std::clamp(avail_w / columns, 3, kMaxColumn);
  const int gap = col_w > 30 ? kGap : (col_w > 6 ? 1 : 0);
  const int tile_h = std::clamp(avail_h / static_cast<int>(rows), 2, kMaxTileHeight);
  const int left = kMargin + std::max(0, (avail_w - col_w * columns) / 2);
  const bool headers = col_w >= 24;
  for (int c = 0; c < columns; ++c) {
    const int x = left + c * col_w;
    headers_.push_back(headers ? QRect(x, kMargin, col_w - gap, kHeader - 2) : QRect());
    const auto& chips = racks[static_cast<std::size_t>(c)].chips;
    for (std::size_t s = 0; s < chips.size(); ++s) {
      tiles_[chips[s]] = QRect(x, kMargin + kHeader + static_cast<int>(s) * tile_h, col_w - gap,
                               std::max(1, tile_h - (tile_h > 8 ? gap : 0)));
    }
  }
  labels_ = col_w >= 90 && tile_h >= 30;
}

void LabView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const LabState& lab = dashboard_.lab();
  if (tiles_.size() != lab.chips().size()) relayout();
  if (lab.chips().empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter,
               dashboard_.link().phase == LinkPhase::connected ? tr("No racks registered with the daemon yet")
                                                               : tr("Not connected to a daemon"));
    return;
  }
  const std::int64_t now = Dashboard::local_now_ms();
  QFont small = font();
  small.setPointSizeF(std::max(7.0, font().pointSizeF() * 0.85));
  QFont bold = font();
  bold.setBold(true);
  const auto& racks = lab.racks();
  for (std::size_t c = 0; c < racks.size() && c < headers_.size(); ++c) {
    if (headers_[c].isNull()) continue;
    p.setFont(bold);
    p.setPen(palette().color(QPalette::WindowText));
    const QString name = QString::fromStdString(racks[c].rack);
    p.drawText(headers_[c].adjusted(14, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, name);
    p.setBrush(racks[c].connected ? QColor(0x2e, 0x9e, 0x4f) : QColor(0xd6, 0x27, 0x28));
    p.setPen(Qt::NoPen);
    p.drawEllipse(QPoint(headers_[c].left() + 5, headers_[c].center().y()), 4, 4);
  }
  p.setFont(small);
  const QFontMetrics fm(small);
  for (std::size_t i = 0; i < lab.chips().size(); ++i) {
    const QRect& r = tiles_[i];
    if (r.isNull()) continue;
    const ChipState& chip = lab.chips()[i];
    const TileLook look = tile_look(lab, chip, mode_, now, labels_);
    p.fillRect(r, look.fill);
    if (!labels_) continue;
    p.setPen(look.text);
    const QRect inner = r.adjusted(5, 2, -4, -2);
    const QString top = QStringLiteral("%1  %2").arg(chip.slot).arg(QString::fromStdString(chip.serial));
    p.drawText(inner, Qt::AlignLeft | Qt::AlignTop, fm.elidedText(top, Qt::ElideRight, inner.width()));
    const QString bottom = look.stale ? look.age : look.value;
    p.drawText(inner, Qt::AlignLeft | Qt::AlignBottom, fm.elidedText(bottom, Qt::ElideRight, inner.width()));
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

QString LabView::tooltip_for(const ChipState& chip) const {
  const LabState& lab = dashboard_.lab();
  const ChipFigures f = figures_of(lab, chip);
  const std::int64_t age = lab.age_ms(chip, Dashboard::local_now_ms());
  QString text = QStringLiteral("<b>%1</b> — rack %2 slot %3 (%4)<br>")
                     .arg(QString::fromStdString(chip.serial), QString::fromStdString(chip.rack))
                     .arg(chip.slot)
                     .arg(QString::fromStdString(chip.sku));
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
  text += QStringLiteral("TFLOPS %1 (%2) · HBM %3<br>")
              .arg(figure(f.tflops, ""), figure(f.tflops_pct, "% of bf16 peak"),
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
