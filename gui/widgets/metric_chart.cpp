#include "gui/widgets/metric_chart.hpp"

#include <QGraphicsLayout>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <QtCharts/QAreaSeries>
#include <QtCharts/QCategoryAxis>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::gui {

namespace {
// Band edges far outside any plausible value: the chart clips them to the
// plot area, so they need no redrawing when the y axis moves.
constexpr double kFar = 1e7;
const QColor kFailBand(214, 39, 40, 40);
const QColor kMarginalBand(224, 168, 0, 45);
const QColor kLineColours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
                               QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b), QColor(0xe3, 0x77, 0xc2)};
}  // namespace

MetricChart::MetricChart(ChartSpec spec, QWidget* parent)
    : QChartView(new QChart, parent),
      spec_(std::move(spec)),
      x_(new QValueAxis),
      y_(new QValueAxis),
      steps_(new QCategoryAxis) {
  QChart* c = chart();
  c->setTitle(spec_.unit.isEmpty() ? spec_.title : QStringLiteral("%1 (%2)").arg(spec_.title, spec_.unit));
  QFont title = c->titleFont();
  title.setBold(true);
  title.setPointSizeF(title.pointSizeF() * 0.95);
  c->setTitleFont(title);
  c->setMargins(QMargins(4, 2, 4, 2));
  c->legend()->setVisible(spec_.metrics.size() > 1);
  c->legend()->setAlignment(Qt::AlignRight);
  c->setAnimationOptions(QChart::NoAnimation);
  // Seconds into the run (simulated time) in the labels: an axis title would
  // cost a chart's worth of height in the chip view's grid.
  x_->setLabelFormat(QStringLiteral("%.0f s"));
  y_->setLabelFormat(QStringLiteral("%.4g"));
  steps_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
  QPen grid(QColor(90, 90, 90));
  grid.setStyle(Qt::DashLine);
  steps_->setGridLinePen(grid);
  steps_->setGridLineVisible(true);
  x_->setGridLineVisible(false);
  // Short numbers never need eliding; Qt's default turns them into "…" in small charts.
  for (QAbstractAxis* axis : std::initializer_list<QAbstractAxis*>{x_, y_, steps_}) axis->setTruncateLabels(false);
  c->addAxis(x_, Qt::AlignBottom);
  c->addAxis(steps_, Qt::AlignTop);
  c->addAxis(y_, Qt::AlignLeft);
  int colour = 0;
  for (const auto& metric : spec_.metrics) {
    auto* line = new QLineSeries;
    line->setName(QString::fromStdString(metric));
    QPen pen(kLineColours[colour++ % std::size(kLineColours)]);
    pen.setWidthF(1.5);
    line->setPen(pen);
    c->addSeries(line);
    line->attachAxis(x_);
    line->attachAxis(y_);
    lines_.push_back(line);
  }
  // The roll-ups' bands after the lines: the legend lists the lines first
  // (hidden markers still take room in it, and would push them out).
  colour = 0;
  for (std::size_t i = 0; i < spec_.metrics.size(); ++i) {
    auto* band = new QAreaSeries(new QLineSeries, new QLineSeries);
    QColor fill = kLineColours[colour++ % std::size(kLineColours)];
    fill.setAlpha(55);
    band->setBrush(fill);
    band->setPen(Qt::NoPen);
    // No name: a hidden marker's label still widens the legend, and pushed the lines' labels out of it.
    c->addSeries(band);
    band->attachAxis(x_);
    band->attachAxis(y_);
    // Always visible (an empty band draws nothing): showing a series shows its legend marker again.
    for (auto* marker : c->legend()->markers(band)) marker->setVisible(false);
    line_bands_.push_back(band);
  }
  setRubberBand(QChartView::HorizontalRubberBand);
  setRenderHint(QPainter::Antialiasing);
  setFocusPolicy(Qt::ClickFocus);
  setMinimumHeight(170);
  connect(x_, &QValueAxis::rangeChanged, this, [this](qreal lo, qreal hi) {
    steps_->setRange(lo, hi);
    if (setting_range_) return;
    // A rubber-band zoom lands here: the other charts follow.
    zoomed_ = lo > 0.001 || hi < full_end() - 0.001;
    emit xRangeChanged(lo, hi, zoomed_);
    redraw();
  });
}

double MetricChart::full_end() const { return std::max({layout_.total_s, last_x_, 1.0}); }

void MetricChart::add_band(double x0, double x1, double lo, double hi, const QColor& colour) {
  auto* upper = new QLineSeries;
  auto* lower = new QLineSeries;
  upper->append(x0, hi);
  upper->append(x1, hi);
  lower->append(x0, lo);
  lower->append(x1, lo);
  auto* area = new QAreaSeries(upper, lower);
  area->setBrush(colour);
  area->setPen(QPen(colour.darker(130), 1, Qt::DotLine));
  chart()->addSeries(area);
  area->attachAxis(x_);
  area->attachAxis(y_);
  bands_.push_back(area);
  // Bands belong to the chart, not the legend.
  for (auto* marker : chart()->legend()->markers(area)) marker->setVisible(false);
}

void MetricChart::set_run(const RunLayout& layout, const std::vector<LimitBand>& bands) {
  layout_ = layout;
  last_x_ = 0;
  for (auto* b : bands_) {
    chart()->removeSeries(b);
    delete b;
  }
  bands_.clear();
  limits_.clear();
  for (const auto& band : bands) {
    if (band.metric != spec_.limits_of) continue;
    limits_.push_back(band);
    if (band.max) add_band(band.x0, band.x1, *band.max, kFar, kFailBand);
    if (band.marginal_max) add_band(band.x0, band.x1, *band.marginal_max, band.max.value_or(kFar), kMarginalBand);
    if (band.min) add_band(band.x0, band.x1, -kFar, *band.min, kFailBand);
    if (band.marginal_min) add_band(band.x0, band.x1, band.min.value_or(-kFar), *band.marginal_min, kMarginalBand);
  }
  // Step names across the top; the category boundaries are the step boundaries.
  for (const auto& label : steps_->categoriesLabels()) steps_->remove(label);
  std::vector<std::pair<double, QString>> phases;  // end, names
  for (const auto& s : layout.steps) {
    const double end = s.start_s + s.duration_s;
    auto it = std::find_if(phases.begin(), phases.end(), [&](const auto& p) { return std::abs(p.first - end) < 1e-9; });
    auto same_start = std::find_if(phases.begin(), phases.end(), [&](const auto& p) { return p.first > s.start_s; });
    if (it == phases.end() && same_start != phases.end() && s.start_s < same_start->first &&
        std::abs(same_start->first - end) > 1e-9) {
      same_start->second += QStringLiteral(" + ") + QString::fromStdString(s.name);  // parallel step, shorter
      continue;
    }
    if (it == phases.end()) {
      phases.emplace_back(end, QString::fromStdString(s.name));
    } else {
      it->second += QStringLiteral(" + ") + QString::fromStdString(s.name);
    }
  }
  std::sort(phases.begin(), phases.end());
  steps_->setStartValue(0);
  int n = 0;
  for (const auto& [end, names] : phases) {
    // Category labels must be unique: repeats of a step get invisible padding.
    steps_->append(names + QString(n++, QChar(0x200b)), end);
  }
  series_ = nullptr;
  rollups_ = nullptr;
  raw_span_.reset();
  for (auto* line : lines_) line->clear();
  for (auto* band : line_bands_) {
    band->upperSeries()->clear();
    band->lowerSeries()->clear();
  }
  apply_x(0, full_end(), false, false);
  lay_out_legend();
}

void MetricChart::lay_out_legend() {
  // Qt lays a legend out on a posted event: a paint before the event loop
  // runs again (a screenshot, a grab right after opening a chip) would draw
  // its room but none of its labels. Laid out now, every paint names the lines.
  if (!chart()->legend()->isVisible()) return;
  if (QGraphicsLayout* layout = chart()->layout()) layout->activate();
  if (QGraphicsLayout* layout = chart()->legend()->layout()) layout->activate();
}

void MetricChart::set_data(const ChipSeries& series) { set_data(&series, nullptr, std::nullopt); }

void MetricChart::set_data(const ChipSeries* series, const ChipRollups* rollups,
                           std::optional<std::pair<double, double>> raw_span) {
  series_ = series;
  rollups_ = rollups;
  raw_span_ = raw_span;
  if (series != nullptr) last_x_ = std::max(last_x_, series->last_x());
  if (rollups != nullptr) last_x_ = std::max(last_x_, rollups->end_x());
  if (!zoomed_) {
    apply_x(0, full_end(), false, false);
  }
  redraw();
}

void MetricChart::redraw() {
  if (series_ == nullptr && rollups_ == nullptr) return;
  const double x0 = x_->min(), x1 = x_->max();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  auto to_qt = [&](const std::vector<Point>& points) {
    QList<QPointF> shown;
    shown.reserve(static_cast<qsizetype>(points.size()));
    for (const Point& p : points) {
      shown.append(QPointF(p.x, p.y));
      if (p.x >= x0 && p.x <= x1 && std::isfinite(p.y)) {
        lo = std::min(lo, p.y);
        hi = std::max(hi, p.y);
      }
    }
    return shown;
  };
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const ChartLine data = chart_line(spec_.metrics[i], rollups_, series_, raw_span_, x0, x1, kMaxPointsShown);
    lines_[i]->replace(to_qt(data.line));
    lines_[i]->setVisible(!data.line.empty());
    line_bands_[i]->upperSeries()->replace(to_qt(data.band_high));
    line_bands_[i]->lowerSeries()->replace(to_qt(data.band_low));
  }
  for (const auto& band : limits_) {
    if (band.x1 < x0 || band.x0 > x1) continue;
    for (const auto& v : {band.min, band.max, band.marginal_min, band.marginal_max}) {
      if (!v) continue;
      lo = std::min(lo, *v);
      hi = std::max(hi, *v);
    }
  }
  if (!std::isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  // A flat line sits mid-chart with a sane span, not magnified noise.
  const double pad = std::max((hi - lo) * 0.08, std::max(std::abs(hi), 1.0) * 0.05);
  y_->setRange(lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad);
  lay_out_legend();  // a line shown or hidden changes the legend
}

void MetricChart::apply_x(double x0, double x1, bool zoomed, bool notify) {
  zoomed_ = zoomed;
  setting_range_ = true;
  x_->setRange(x0, x1);
  setting_range_ = false;
  steps_->setRange(x0, x1);
  if (notify) emit xRangeChanged(x0, x1, zoomed);
}

void MetricChart::set_x_range(double x0, double x1, bool zoomed) {
  apply_x(x0, x1, zoomed, false);
  redraw();
}

void MetricChart::reset_zoom() {
  apply_x(0, full_end(), false, true);
  redraw();
}

double MetricChart::x_min() const { return x_->min(); }
double MetricChart::x_max() const { return x_->max(); }

std::size_t MetricChart::band_points() const {
  std::size_t n = 0;
  for (auto* band : line_bands_) n += static_cast<std::size_t>(band->upperSeries()->count());
  return n;
}

std::size_t MetricChart::points_shown() const {
  std::size_t n = 0;
  for (auto* line : lines_) n += static_cast<std::size_t>(line->count());
  return n;
}

void MetricChart::wheelEvent(QWheelEvent* event) {
  const double factor = event->angleDelta().y() > 0 ? 0.8 : 1.25;
  const QPointF at = chart()->mapToValue(event->position());
  const double x0 = x_->min(), x1 = x_->max();
  const double lo = std::max(0.0, at.x() - (at.x() - x0) * factor);
  const double hi = std::min(full_end(), at.x() + (x1 - at.x()) * factor);
  if (hi - lo < 0.5) return;
  apply_x(lo, hi, lo > 0 || hi < full_end(), true);
  redraw();
  event->accept();
}

void MetricChart::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
    panning_ = true;
    pan_from_ = event->position().toPoint();
    event->accept();
    return;
  }
  QChartView::mousePressEvent(event);
}

void MetricChart::mouseMoveEvent(QMouseEvent* event) {
  if (!panning_) {
    QChartView::mouseMoveEvent(event);
    return;
  }
  const QPoint now = event->position().toPoint();
  const double per_pixel = (x_->max() - x_->min()) / std::max(1.0, chart()->plotArea().width());
  double shift = -(now.x() - pan_from_.x()) * per_pixel;
  pan_from_ = now;
  shift = std::clamp(shift, -x_->min(), full_end() - x_->max());
  apply_x(x_->min() + shift, x_->max() + shift, true, true);
  redraw();
}

void MetricChart::mouseReleaseEvent(QMouseEvent* event) {
  if (panning_) {
    panning_ = false;
    event->accept();
    return;
  }
  QChartView::mouseReleaseEvent(event);
}

void MetricChart::mouseDoubleClickEvent(QMouseEvent*) { reset_zoom(); }

void MetricChart::keyPressEvent(QKeyEvent* event) {
  const double span = x_->max() - x_->min();
  double shift = 0;
  if (event->key() == Qt::Key_Left) shift = -span * 0.2;
  if (event->key() == Qt::Key_Right) shift = span * 0.2;
  if (event->key() == Qt::Key_Escape || event->key() == Qt::Key_Home) {
    reset_zoom();
    return;
  }
  if (shift == 0) {
    QChartView::keyPressEvent(event);
    return;
  }
  shift = std::clamp(shift, -x_->min(), full_end() - x_->max());
  apply_x(x_->min() + shift, x_->max() + shift, true, true);
  redraw();
}

}  // namespace kiln::gui
