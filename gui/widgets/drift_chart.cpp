#include "gui/widgets/drift_chart.hpp"

#include <algorithm>

#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

namespace kiln::gui {

namespace {

const QColor kCalm[] = {QColor(0x1f, 0x77, 0xb4), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                        QColor(0x8c, 0x56, 0x4b)};
const QColor kAlarm(0xd6, 0x27, 0x28);

}  // namespace

DriftChart::DriftChart(QWidget* parent) : QChartView(parent) {
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(180);
  set_trend({});
}

void DriftChart::set_trend(const DriftTrend& trend) {
  trend_ = trend;
  auto* chart = new QChart;
  chart->setTitle(tr("Drift of this serial: change from its first judged run (%)"));
  chart->legend()->setAlignment(Qt::AlignBottom);
  auto* x = new QValueAxis;
  x->setTitleText(tr("judged run (oldest first)"));
  x->setLabelFormat("%d");
  auto* y = new QValueAxis;
  y->setTitleText(tr("% from first"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  double low = -1, high = 1;
  std::size_t longest = 1;
  std::size_t calm = 0;
  for (const DriftFigure& figure : trend.figures) {
    auto* line = new QLineSeries;
    QString name = QString::fromStdString(figure.name);
    if (figure.alarm) name += QStringLiteral(" — ALARM: ") + QString::fromStdString(figure.reason);
    if (!figure.points.empty() && !figure.percent_change(0)) name += tr(" (first value 0: no percentage)");
    line->setName(name);
    for (std::size_t i = 0; i < figure.points.size(); ++i) {
      const auto change = figure.percent_change(i);
      if (!change) continue;
      line->append(static_cast<double>(i + 1), *change);
      low = std::min(low, *change);
      high = std::max(high, *change);
    }
    longest = std::max(longest, figure.points.size());
    QPen pen(figure.alarm ? kAlarm : kCalm[calm++ % std::size(kCalm)]);
    pen.setWidthF(figure.alarm ? 3.0 : 1.5);
    line->setPen(pen);
    chart->addSeries(line);
    line->attachAxis(x);
    line->attachAxis(y);
  }
  const double margin = std::max(0.5, (high - low) * 0.1);
  y->setRange(low - margin, high + margin);
  y->applyNiceNumbers();
  x->setRange(1, static_cast<double>(std::max<std::size_t>(longest, 2)));
  x->setTickCount(static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(longest, 2), 10)));
  if (trend.figures.empty()) chart->setTitle(tr("Drift of this serial: no judged runs with figures yet"));
  QChart* old = this->chart();
  setChart(chart);
  delete old;
  setAccessibleName(summary());
}

QString DriftChart::summary() const {
  if (trend_.figures.empty()) return tr("no drift figures");
  QStringList parts;
  for (const DriftFigure& f : trend_.figures) {
    const auto last = f.points.empty() ? std::nullopt : f.percent_change(f.points.size() - 1);
    parts << QStringLiteral("%1: %2 runs, %3%4")
                 .arg(QString::fromStdString(f.name))
                 .arg(f.points.size())
                 .arg(last ? QString::asprintf("%+.1f%%", *last) : QStringLiteral("n/a"))
                 .arg(f.alarm ? QStringLiteral(" (alarm)") : QString());
  }
  return parts.join(QStringLiteral("; "));
}

}  // namespace kiln::gui
