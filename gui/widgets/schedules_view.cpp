#include "gui/widgets/schedules_view.hpp"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include "gui/dashboard.hpp"
#include "gui/widgets/tile_style.hpp"

namespace kiln::gui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

// "2026-12-03T01:30:00Z" as "2026-12-03 01:30 UTC", beside the next fire time's form.
QString utc_text(const std::string& iso) {
  const QDateTime t = QDateTime::fromString(q(iso), Qt::ISODate);
  return t.isValid() ? t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'")) : q(iso);
}

QString targets_of(const ScheduleRow& row) {
  QStringList racks;
  for (const auto& r : row.racks) racks << q(r);
  QString text = racks.isEmpty() ? QObject::tr("plan's targets") : racks.join(QStringLiteral(", "));
  if (!row.sku.empty()) text += QObject::tr(" · SKU %1").arg(q(row.sku));
  return text;
}

QString details_of(const ScheduleRow& row) {
  QString text = QObject::tr("<b>%1</b> — plan %2 (%3)<br>cron <tt>%4</tt> in %5, jitter %6 s, catch-up %7<br>")
                     .arg(q(row.name), q(row.plan), q(row.plan_path), q(row.cron), q(row.time_zone))
                     .arg(row.jitter_s)
                     .arg(q(row.catch_up.empty() ? std::string("skip") : row.catch_up));
  text += QObject::tr("priority %1").arg(row.priority);
  if (row.max_wall_s) text += QObject::tr(" · at most %1 running").arg(q(format_seconds(double(*row.max_wall_s))));
  if (row.queue_timeout_s)
    text += QObject::tr(" · leaves the queue after %1").arg(q(format_seconds(double(*row.queue_timeout_s))));
  if (!row.next_fire.empty()) text += QObject::tr("<br>next fire %1 UTC").arg(q(row.next_fire));
  if (!row.last_outcome.empty()) text += QObject::tr("<br>last: %1").arg(q(row.last_outcome).toHtmlEscaped());
  return text;
}

}  // namespace

SchedulesView::SchedulesView(Dashboard& dashboard, QWidget* parent)
    : QWidget(parent), dashboard_(dashboard), status_(new QLabel), table_(new QTableWidget(0, kColumns)) {
  table_->setHorizontalHeaderLabels({tr("Schedule"), tr("Plan"), tr("When"), tr("Racks"), tr("Next fire"),
                                     tr("Last fire"), tr("Last result"), tr("By")});
  table_->horizontalHeader()->setSectionResizeMode(kResult, QHeaderView::Stretch);
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(status_);
  layout->addWidget(table_, 1);
  connect(&dashboard_, &Dashboard::schedulesUpdated, this, &SchedulesView::rebuild);
  connect(&dashboard_, &Dashboard::runsUpdated, this, &SchedulesView::rebuild);  // the last run's status
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { open(row); });
  connect(table_, &QTableWidget::itemActivated, this, [this](QTableWidgetItem* item) { open(item->row()); });
  rebuild();
}

QString SchedulesView::status_text() const { return status_->text(); }

void SchedulesView::rebuild() {
  const SchedulesTable& schedules = dashboard_.schedules();
  const auto& rows = schedules.rows();
  if (!schedules.unavailable().empty()) {
    status_->setText(q(schedules.unavailable()));
    status_->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
  } else if (!schedules.loaded()) {
    status_->setText(tr("schedules: not read yet"));
  } else {
    int enabled = 0;
    for (const auto& r : rows) enabled += r.enabled ? 1 : 0;
    status_->setText(rows.empty() ? tr("No schedules (kiln schedule add)")
                                  : tr("%1 schedules, %2 enabled").arg(rows.size()).arg(enabled));
    status_->setStyleSheet(QString());
  }
  table_->setRowCount(static_cast<int>(rows.size()));
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    const ScheduleRow& r = rows[static_cast<std::size_t>(i)];
    const QString result = q(last_result_text(r, dashboard_.runs()));
    const QStringList cells{q(r.name),
                            q(r.plan),
                            QStringLiteral("%1 (%2)").arg(q(r.cron), q(r.time_zone)),
                            targets_of(r),
                            q(next_fire_text(r)),
                            r.last_fire.empty() ? tr("never") : utc_text(r.last_fire),
                            result,
                            q(r.created_by)};
    const RunRow* run = r.last_run ? dashboard_.runs().find(*r.last_run) : nullptr;
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      item->setToolTip(details_of(r));
      item->setData(Qt::UserRole, QVariant::fromValue<qulonglong>(r.last_run.value_or(0)));
      if (!r.enabled) item->setForeground(palette().color(QPalette::PlaceholderText));
      if (c == kResult && run != nullptr) {
        if (run->status == "running") item->setBackground(verdict_colour("running").lighter(170));
        if (run->status == "queued") item->setBackground(verdict_colour("marginal").lighter(190));
        if (run->status == "aborted" || run->status == "error")
          item->setBackground(verdict_colour("error").lighter(170));
      }
      table_->setItem(i, c, item);
    }
  }
  table_->resizeColumnsToContents();
}

void SchedulesView::open(int row) {
  if (row < 0 || row >= table_->rowCount()) return;
  const quint64 run = table_->item(row, 0)->data(Qt::UserRole).toULongLong();
  if (run != 0) emit runRequested(run);
}

}  // namespace kiln::gui
