#include "gui/widgets/chip_view.hpp"

#include <QDateTime>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "gui/dashboard.hpp"
#include "gui/model/chip_counts.hpp"
#include "gui/widgets/drift_chart.hpp"
#include "gui/widgets/metric_chart.hpp"
#include "gui/widgets/tile_style.hpp"
#include "metrics/catalog.hpp"

namespace kiln::gui {

namespace {

// link0_gbps, link1_gbps, … of a per-link template of the catalog.
std::vector<std::string> per_link(metrics::MetricName name, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(metrics::link_metric(name, i));
  return out;
}

// Up to 8 links per chip are charted; a link the chip lacks has no data and no line.
constexpr int kMaxLinks = 8;

// A chart of `shown` metrics, titled and in units as the catalog declares the
// first, with the limit bands of `limited`.
ChartSpec chart(std::vector<std::string> shown, metrics::MetricName limited, const char* title = nullptr) {
  const metrics::MetricDef& def = metrics::MetricCatalog::builtin().at(metrics::MetricName{shown.front()});
  return {title != nullptr ? QObject::tr(title) : QString::fromStdString(def.label), QString::fromStdString(def.unit),
          std::move(shown), limited.str()};
}

std::vector<ChartSpec> chart_specs() {
  using namespace metrics;
  return {
      chart({kTemperatureC.str(), kHbmTemperatureC.str()}, kTemperatureC),
      chart({kPowerW.str()}, kPowerW),
      chart({kClockMhz.str()}, kClockMhz),
      chart({kTflops.str()}, kTflops),
      chart({kHbmGbps.str()}, kHbmGbps),
      chart(per_link(kLinkGbpsOf, kMaxLinks), kLinkGbps),
      chart({kSdcErrors.str(), kMemoryErrors.str(), kHbmCe.str(), kHbmUe.str(), kDataErrors.str()}, kSdcErrors,
            "Errors (cumulative)"),
      chart(per_link(kLinkCrcErrorsOf, kMaxLinks), kLinkCrcErrors, "Link CRC errors (cumulative)"),
  };
}

QTableWidget* make_table(const QStringList& headers) {
  auto* t = new QTableWidget(0, static_cast<int>(headers.size()));
  t->setHorizontalHeaderLabels(headers);
  t->horizontalHeader()->setStretchLastSection(true);
  t->verticalHeader()->setVisible(false);
  t->setEditTriggers(QAbstractItemView::NoEditTriggers);
  t->setSelectionBehavior(QAbstractItemView::SelectRows);
  t->setAlternatingRowColors(true);
  return t;
}

void set_row(QTableWidget* t, int row, const QStringList& cells) {
  for (int c = 0; c < cells.size(); ++c) t->setItem(row, c, new QTableWidgetItem(cells[c]));
}

}  // namespace

ChipView::ChipView(Dashboard& dashboard, QWidget* parent)
    : QWidget(parent),
      dashboard_(dashboard),
      pages_(new QStackedWidget),
      hint_(new QLabel(tr("No chip is open.\n\nClick a chip in the lab view (F2) to see its telemetry, or double-click "
                          "one in a run's verdict table (F4) or an alarm (F6)."))),
      body_(new QWidget),
      header_(new QLabel),
      status_(new QLabel),
      failures_(make_table(
          {tr("Class"), tr("Step"), tr("Count"), tr("Location"), tr("Conditions at first"), tr("First at")})),
      history_(make_table({tr("Run"), tr("Plan"), tr("Rack / slot"), tr("Verdict"), tr("Status"), tr("Submitted")})),
      drift_(new DriftChart) {
  zoom_timer_ = new QTimer(this);
  zoom_timer_->setSingleShot(true);
  zoom_timer_->setInterval(kZoomSettleMs);
  connect(zoom_timer_, &QTimer::timeout, this, &ChipView::update_zoom);
  header_->setTextFormat(Qt::RichText);
  status_->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
  auto* grid_host = new QWidget;
  auto* grid = new QGridLayout(grid_host);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->setSpacing(4);
  const auto specs = chart_specs();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto* chart = new MetricChart(specs[i]);
    charts_.push_back(chart);
    grid->addWidget(chart, static_cast<int>(i / 2), static_cast<int>(i % 2));
    connect(chart, &MetricChart::xRangeChanged, this, [this, chart](double x0, double x1, bool zoomed) {
      for (auto* other : charts_) {
        if (other != chart) other->set_x_range(x0, x1, zoomed);
      }
      view_x0_ = x0;
      view_x1_ = x1;
      view_zoomed_ = zoomed;
      if (rollups_) zoom_timer_->start();
    });
  }
  // Below the run's charts, the serial's drift over its runs (docs/lifecycle.md).
  grid->addWidget(drift_, static_cast<int>((specs.size() + 1) / 2), 0, 1, 2);
  auto* scroll = new QScrollArea;
  scroll->setWidget(grid_host);
  scroll->setWidgetResizable(true);
  grid_host->setMinimumHeight(5 * 190);

  auto* tables = new QSplitter(Qt::Horizontal);
  auto* failures_box = new QWidget;
  auto* fl = new QVBoxLayout(failures_box);
  fl->setContentsMargins(0, 0, 0, 0);
  fl->addWidget(new QLabel(tr("<b>Failures in this run</b>")));
  fl->addWidget(failures_);
  auto* history_box = new QWidget;
  auto* hl = new QVBoxLayout(history_box);
  hl->setContentsMargins(0, 0, 0, 0);
  hl->addWidget(new QLabel(tr("<b>History of this serial</b> (double-click a run to open it)")));
  hl->addWidget(history_);
  tables->addWidget(failures_box);
  tables->addWidget(history_box);
  tables->setStretchFactor(0, 3);
  tables->setStretchFactor(1, 2);

  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(scroll);
  split->addWidget(tables);
  split->setStretchFactor(0, 4);
  split->setStretchFactor(1, 1);

  auto* body = new QVBoxLayout(body_);
  body->setContentsMargins(0, 0, 0, 0);
  body->addWidget(header_);
  body->addWidget(status_);
  body->addWidget(split, 1);
  hint_->setAlignment(Qt::AlignCenter);
  hint_->setWordWrap(true);
  hint_->setStyleSheet(QStringLiteral("font-size: 13pt; color: palette(placeholder-text);"));
  pages_->addWidget(hint_);
  pages_->addWidget(body_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(pages_);

  connect(history_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
    if (auto* item = history_->item(row, 0)) emit runRequested(item->text().toULongLong());
  });
  connect(&dashboard_, &Dashboard::labUpdated, this, &ChipView::on_lab_updated);
  connect(&dashboard_, &Dashboard::alarmsUpdated, this, [this] {
    if (!serial_.isEmpty()) show_failures();
  });
  auto* timer = new QTimer(this);
  connect(timer, &QTimer::timeout, this, [this] {
    if (dirty_ && isVisible()) redraw();
  });
  timer->start(kRedrawMs);
}

bool ChipView::showing_hint() const { return pages_->currentWidget() == hint_; }
QString ChipView::header_text() const { return header_->text(); }
QString ChipView::status_text() const { return status_->text(); }

QStringList ChipView::failure_rows() const {
  QStringList rows;
  for (int r = 0; r < failures_->rowCount(); ++r) {
    QStringList cells;
    for (int c = 0; c < 4; ++c) cells << (failures_->item(r, c) ? failures_->item(r, c)->text() : QString());
    rows << cells.join(QStringLiteral(" | "));
  }
  return rows;
}

void ChipView::open(const QString& serial) {
  serial_ = serial;
  pages_->setCurrentWidget(serial.isEmpty() ? static_cast<QWidget*>(hint_) : body_);
  ++generation_;
  series_.reset();
  rollups_.reset();
  raw_span_.reset();
  run_status_.clear();
  view_zoomed_ = false;
  zoom_timer_->stop();
  loaded_ = false;
  run_id_ = 0;
  verdict_seen_.clear();
  failures_judged_.clear();
  failures_->setRowCount(0);
  history_->setRowCount(0);
  drift_->set_trend({});
  const ChipState* chip = dashboard_.lab().find(serial.toStdString());
  update_header();
  load_history();
  if (chip == nullptr || chip->run_id == 0) {
    status_->setText(chip == nullptr ? tr("This chip is not in the lab the daemon knows.")
                                     : tr("This chip has not been in a run yet."));
    for (auto* c : charts_) c->set_run(RunLayout{}, {});
    loaded_ = true;
    return;
  }
  load_run(chip->run_id);
}

void ChipView::load_run(std::uint64_t run_id) {
  run_id_ = run_id;
  const std::uint64_t generation = generation_;
  status_->setText(tr("Loading run %1 …").arg(run_id));
  // The run's steps (the time axis) and their typed limits (the bands).
  kiln::v1::Envelope get_plan;
  get_plan.mutable_get_plan()->set_run_id(run_id);
  ask(get_plan, [this, generation, run_id](const Result<kiln::v1::QueryReply>& reply) {
    if (generation != generation_) return;
    if (!reply) {
      status_->setText(tr("Cannot read run %1: %2").arg(run_id).arg(QString::fromStdString(reply.error().message)));
      return;
    }
    if (!dashboard_.lab().knows_plan(run_id)) dashboard_.set_run_plan(reply->run_plan());
    const RunLayout layout = RunLayout::from_plan(reply->run_plan());
    series_ = std::make_unique<ChipSeries>(serial_.toStdString(), layout);
    const ChipState* chip = dashboard_.lab().find(serial_.toStdString());
    const auto bands = chip != nullptr ? limit_bands(reply->run_plan(), layout, chip->peaks) : std::vector<LimitBand>{};
    for (auto* c : charts_) c->set_run(layout, bands);
    view_x0_ = charts_.empty() ? 0 : charts_.front()->x_min();
    view_x1_ = charts_.empty() ? 0 : charts_.front()->x_max();
    view_zoomed_ = false;
    load_rollups(run_id);
  });
  load_report(run_id);
}

void ChipView::ask(kiln::v1::Envelope envelope, std::function<void(const Result<kiln::v1::QueryReply>&)> on_answer) {
  if (ask_) {
    ask_(std::move(envelope), std::move(on_answer));
  } else {
    dashboard_.ask(std::move(envelope), std::move(on_answer));
  }
}

namespace {

kiln::v1::Envelope telemetry_query(kiln::v1::Query::Kind kind, std::uint64_t run_id, const QString& serial) {
  kiln::v1::Envelope envelope;
  auto* q = envelope.mutable_query();
  q->set_kind(kind);
  q->set_answer(kiln::v1::Query::ANSWER_TYPED);
  q->set_run_id(run_id);
  q->set_serial(serial.toStdString());
  return envelope;
}

}  // namespace

void ChipView::load_rollups(std::uint64_t run_id) {
  const std::uint64_t generation = generation_;
  ask(telemetry_query(kiln::v1::Query::ROLLUPS, run_id, serial_),
      [this, generation, run_id](const Result<kiln::v1::QueryReply>& reply) {
        if (generation != generation_ || !series_) return;
        if (!reply || !reply->has_rollups()) {
          // A daemon older than roll-ups answers ROLLUPS with an error: the raw values, as it always gave them.
          load_raw(run_id, reply ? tr("no roll-ups in the answer") : QString::fromStdString(reply.error().message));
          return;
        }
        auto rollups = std::make_unique<ChipRollups>(serial_.toStdString(), series_->layout());
        const std::size_t used = rollups->load(reply->rollups());
        if (rollups->empty() && !rollups->raw_pruned()) {
          load_raw(run_id, QString());  // nothing stored as roll-ups yet (a run that just started)
          return;
        }
        rollups_ = std::move(rollups);
        if (rollups_->raw_pruned()) {
          run_status_ = tr("Run %1: raw telemetry pruned on %2 (kilnd --keep-raw); the charts show the %3 stored "
                           "roll-ups only (min–max band, average line).")
                            .arg(run_id)
                            .arg(QDateTime::fromMSecsSinceEpoch(rollups_->raw_pruned_unix_ms()).toString(Qt::ISODate))
                            .arg(used);
        } else {
          run_status_ = tr("Run %1: whole run from %2 stored roll-ups (min–max band, average line), live from here on; "
                           "zoom in for raw values. Wheel or drag to zoom, right-drag to pan, double-click for the "
                           "whole run.")
                            .arg(run_id)
                            .arg(used);
        }
        status_->setText(run_status_);
        loaded_ = true;
        dirty_ = true;
        redraw();
        update_header();
      });
}

void ChipView::load_raw(std::uint64_t run_id, const QString& why) {
  const std::uint64_t generation = generation_;
  ask(telemetry_query(kiln::v1::Query::TELEMETRY, run_id, serial_),
      [this, generation, run_id, why](const Result<kiln::v1::QueryReply>& stored) {
        if (generation != generation_ || !series_) return;
        const std::size_t points = stored ? series_->load_series(stored->telemetry()) : 0;
        run_status_ = tr("Run %1: %2 stored samples, live from here on. Wheel or drag to zoom, right-drag to pan, "
                         "double-click for the whole run.")
                          .arg(run_id)
                          .arg(points);
        if (!why.isEmpty())
          run_status_ += tr(" (No roll-ups from this daemon: %1; raw values, at most %2 per metric.)")
                             .arg(why)
                             .arg(ChipSeries::kMaxPoints);
        status_->setText(run_status_);
        loaded_ = true;
        dirty_ = true;
        redraw();
        update_header();  // its counts are where the charts end
      });
}

void ChipView::zoom_to(double x0, double x1) {
  const double end = series_ ? std::max(series_->layout().total_s, rollups_ ? rollups_->end_x() : 0.0) : x1;
  const bool zoomed = x0 > 0.001 || x1 < end - 0.001;
  for (auto* c : charts_) c->set_x_range(x0, x1, zoomed);
  view_x0_ = x0;
  view_x1_ = x1;
  view_zoomed_ = zoomed;
  zoom_timer_->stop();
  update_zoom();
}

void ChipView::update_zoom() {
  if (!rollups_ || !series_) return;
  const double x0 = view_x0_, x1 = view_x1_;
  const ZoomDecision d = decide_zoom(*rollups_, x0, x1, view_zoomed_);
  using Source = ZoomDecision::Source;
  if (d.source == Source::rollups_only) {
    status_->setText(run_status_ + (view_zoomed_ ? tr(" No raw values to zoom into.") : QString()));
    return;
  }
  if (d.source == Source::rollups) {
    status_->setText(view_zoomed_ ? tr("Zoomed: about %1 values of the busiest series in view, more than %2: roll-ups "
                                       "(zoom in further for raw values).")
                                        .arg(d.values)
                                        .arg(ZoomDecision::kMaxRawValues)
                                  : run_status_);
    return;
  }
  if (raw_span_ && raw_span_->first <= x0 && raw_span_->second >= x1) return;  // already there
  const std::uint64_t generation = generation_;
  const std::uint64_t asked = ++window_asked_;
  kiln::v1::Envelope envelope = telemetry_query(kiln::v1::Query::TELEMETRY, run_id_, serial_);
  for (const auto& w : windows_for(series_->layout(), x0, x1)) *envelope.mutable_query()->add_windows() = w;
  status_->setText(tr("Zoomed: loading the raw values of %1–%2 s …").arg(x0, 0, 'f', 0).arg(x1, 0, 'f', 0));
  ask(std::move(envelope), [this, generation, asked, x0, x1](const Result<kiln::v1::QueryReply>& reply) {
    if (generation != generation_ || asked != window_asked_ || !series_) return;
    if (!reply) {
      status_->setText(tr("Zoomed: the raw values could not be read (%1); roll-ups shown.")
                           .arg(QString::fromStdString(reply.error().message)));
      return;
    }
    auto raw = std::make_unique<ChipSeries>(serial_.toStdString(), series_->layout());
    const std::size_t points = raw->load_series(reply->telemetry());
    series_ = std::move(raw);
    raw_span_ = std::make_pair(x0, x1);
    status_->setText(tr("Zoomed: %1 raw values of %2–%3 s (double-click for the whole run).")
                         .arg(points)
                         .arg(x0, 0, 'f', 0)
                         .arg(x1, 0, 'f', 0));
    redraw();
  });
}

void ChipView::load_report(std::uint64_t run_id) {
  const std::uint64_t generation = generation_;
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::REPORT);
  q.set_run_id(run_id);
  dashboard_.query(q, [this, generation](const Result<std::string>& body) {
    if (generation != generation_ || !body) return;
    if (auto matrix = VerdictMatrix::from_report_json(*body)) {
      failures_judged_ = matrix->failures_of(serial_.toStdString());
      show_failures();
    }
  });
}

void ChipView::show_failures() {
  std::vector<FailureInfo> failures = failures_judged_;
  // A step is judged when it ends; until then the agent's detections and
  // the judge's concerns so far (as alarms, updated in place by the daemon)
  // are what there is to show for it.
  for (const auto& e : dashboard_.alarms().entries()) {
    const auto& a = e.alarm;
    if (a.kind() != kiln::v1::ALARM_FAILURE || a.cleared() || a.serial() != serial_.toStdString() ||
        a.run_id() != run_id_) {
      continue;
    }
    const bool judged = std::any_of(failures_judged_.begin(), failures_judged_.end(),
                                    [&](const FailureInfo& f) { return f.step == a.step(); });
    if (judged) continue;
    failures.push_back(FailureInfo{a.serial(), "so far (step not judged yet)", a.step(), 0, a.message(), "",
                                   QDateTime::fromMSecsSinceEpoch(a.unix_ms()).toString(Qt::ISODate).toStdString(),
                                   ""});
  }
  failures_->setRowCount(static_cast<int>(failures.size()));
  for (int i = 0; i < static_cast<int>(failures.size()); ++i) {
    const auto& f = failures[static_cast<std::size_t>(i)];
    set_row(
        failures_, i,
        {QString::fromStdString(f.cls), QString::fromStdString(f.step), f.count ? QString::number(f.count) : QString(),
         QString::fromStdString(f.location), QString::fromStdString(f.conditions), QString::fromStdString(f.first_at)});
    if (!f.detail.empty()) failures_->item(i, 0)->setToolTip(QString::fromStdString(f.detail));
  }
  failures_->resizeColumnsToContents();
}

void ChipView::load_history() {
  const std::uint64_t generation = generation_;
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::CHIP);
  q.set_serial(serial_.toStdString());
  dashboard_.query(q, [this, generation](const Result<std::string>& body) {
    if (generation != generation_ || !body) return;
    if (auto drift = DriftTrend::from_chip_json(*body)) drift_->set_trend(*drift);
    auto history = ChipHistory::from_chip_json(*body);
    if (!history) return;
    history_->setRowCount(static_cast<int>(history->runs.size()));
    for (int i = 0; i < static_cast<int>(history->runs.size()); ++i) {
      const auto& h = history->runs[static_cast<std::size_t>(i)];
      set_row(history_, i,
              {QString::number(h.run_id), QString::fromStdString(h.plan),
               QStringLiteral("%1 / %2").arg(QString::fromStdString(h.rack)).arg(h.slot),
               h.verdict.empty() ? tr("(pending)") : QString::fromStdString(h.verdict),
               QString::fromStdString(h.status), QString::fromStdString(h.submitted)});
      if (!h.verdict.empty()) history_->item(i, 3)->setBackground(verdict_colour(h.verdict).lighter(160));
    }
    history_->resizeColumnsToContents();
  });
}

void ChipView::on_lab_updated() {
  if (serial_.isEmpty()) return;
  const ChipState* chip = dashboard_.lab().find(serial_.toStdString());
  if (chip == nullptr) return;
  if (chip->run_id != 0 && chip->run_id != run_id_) {
    // The chip started another run: follow it.
    ++generation_;
    load_run(chip->run_id);
    load_history();
  }
  if (chip->verdict != verdict_seen_) {
    verdict_seen_ = chip->verdict;
    if (run_id_ != 0) load_report(run_id_);
    if (chip->verdict != "running") load_history();
  }
  if (series_ && series_->append(dashboard_.lab(), *chip)) dirty_ = true;
  if (isVisible()) update_header();
}

void ChipView::redraw() {
  dirty_ = false;
  if (!series_) return;
  for (auto* c : charts_) c->set_data(series_.get(), rollups_.get(), raw_span_);
}

void ChipView::update_header() {
  const LabState& lab = dashboard_.lab();
  const ChipState* chip = lab.find(serial_.toStdString());
  if (chip == nullptr) {
    header_->setText(QStringLiteral("<h2>%1</h2>").arg(serial_.toHtmlEscaped()));
    return;
  }
  const ChipFigures f = figures_of(lab, *chip);
  const std::int64_t age = lab.age_ms(*chip, Dashboard::local_now_ms());
  auto num = [](double v, int precision) {
    return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', precision);
  };
  // Of the peak for the step's own dtype; the key says which ("tflops.fp8").
  QString pct = tr("n/a");
  if (!std::isnan(f.tflops_pct)) {
    const auto dot = f.tflops_peak_key.find('.');
    const QString dtype =
        dot == std::string::npos ? QString() : QString::fromStdString(f.tflops_peak_key.substr(dot + 1)) + ' ';
    pct = tr("%1 % of %2peak").arg(num(f.tflops_pct, 0), dtype);
  }
  // The same counts the error charts end at.
  const ErrorCounts counts = error_counts(lab, *chip, series_.get());
  QString errors = tr("errors %1").arg(num(counts.total, 0));
  if (counts.total > 0) {
    QStringList parts;
    for (const auto& c : counts.counts) {
      if (c.count > 0) parts << QStringLiteral("%1 %2").arg(QString::fromStdString(c.label), num(c.count, 0));
    }
    errors = QStringLiteral("<b style='color:#d62728'>%1</b> (%2)").arg(errors, parts.join(QStringLiteral(", ")));
  }
  const QString verdict = chip->verdict.empty() ? tr("idle") : QString::fromStdString(chip->verdict);
  header_->setText(
      QStringLiteral("<span style='font-size:15pt; font-weight:bold'>%1</span> &nbsp; rack %2 slot %3 · %4 · "
                     "<span style='background:%5; color:white; padding:2px'>&nbsp;%6&nbsp;</span> · run %7, %8<br>"
                     "%9 °C · %10 W · %11 MHz · %12 TFLOPS (%13) · %14%15 · last sample %16")
          .arg(serial_.toHtmlEscaped(), QString::fromStdString(chip->rack))
          .arg(chip->slot)
          .arg(QString::fromStdString(chip->sku), verdict_colour(chip->verdict).name(), verdict)
          .arg(chip->run_id)
          .arg(QString::fromStdString(chip->step))
          .arg(num(f.temperature_c, 1), num(f.power_w, 0), num(f.clock_mhz, 0), num(f.tflops, 0), pct, errors,
               f.throttled ? tr(" · <b>throttled</b>") : QString(),
               age < 0 ? tr("never") : tr("%1 ago").arg(short_age(age))));
}

}  // namespace kiln::gui
