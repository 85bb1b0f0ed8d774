#include "gui/widgets/alarms_view.hpp"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "gui/dashboard.hpp"
#include "gui/widgets/tile_style.hpp"
#include "schema/enums.hpp"

namespace kiln::gui {

namespace {
QColor kind_colour(kiln::v1::AlarmKind kind) {
  if (kind == kiln::v1::ALARM_FAILURE) return verdict_colour("fail");
  if (kind == kiln::v1::ALARM_THROTTLING) return verdict_colour("marginal");
  if (kind == kiln::v1::ALARM_AGENT_BACK) return verdict_colour("pass");
  return verdict_colour("error");  // agent_lost, agent_silent
}
// Who acknowledged it, as the daemon stored it; "here" until the daemon's word arrives.
QString acknowledged_text(const AlarmEntry& e) {
  if (!e.acknowledged_by().empty()) {
    return QObject::tr("%1, %2").arg(
        QString::fromStdString(e.acknowledged_by()),
        QDateTime::fromMSecsSinceEpoch(e.alarm.acknowledged_unix_ms()).toString(QStringLiteral("MM-dd HH:mm")));
  }
  return e.acknowledged ? QObject::tr("here") : QString();
}
}  // namespace

AlarmsView::AlarmsView(Dashboard& dashboard, QWidget* parent)
    : QWidget(parent),
      dashboard_(dashboard),
      table_(new QTableWidget(0, 6)),
      ack_(new QPushButton(tr("&Acknowledge"))),
      ack_all_(new QPushButton(tr("Acknowledge a&ll"))) {
  table_->setHorizontalHeaderLabels(
      {tr("Time"), tr("Kind"), tr("Chip / rack"), tr("Run"), tr("Acknowledged"), tr("Message")});
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->setVisible(false);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  ack_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
  ack_->setToolTip(tr("Acknowledge the selected alarms (Ctrl+K): the daemon keeps it, every dashboard sees it"));
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(ack_);
  buttons->addWidget(ack_all_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_, 1);
  layout->addLayout(buttons);
  connect(&dashboard_, &Dashboard::alarmsUpdated, this, &AlarmsView::rebuild);
  connect(ack_, &QPushButton::clicked, this, &AlarmsView::acknowledge_selected);
  connect(ack_all_, &QPushButton::clicked, this, &AlarmsView::acknowledge_all);
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { jump(row); });
  connect(table_, &QTableWidget::itemActivated, this, [this](QTableWidgetItem* item) { jump(item->row()); });
}

void AlarmsView::rebuild() {
  const auto& entries = dashboard_.alarms().entries();
  table_->setRowCount(static_cast<int>(entries.size()));
  for (int row = 0; row < static_cast<int>(entries.size()); ++row) {
    const AlarmEntry& e = entries[static_cast<std::size_t>(row)];
    const auto& a = e.alarm;
    const QString where = a.serial().empty() ? QStringLiteral("rack %1").arg(QString::fromStdString(a.rack()))
                                             : QString::fromStdString(a.serial());
    const QStringList cells{
        QDateTime::fromMSecsSinceEpoch(a.unix_ms()).toString(QStringLiteral("MM-dd HH:mm:ss")),
        QString::fromStdString(std::string(wire::to_string(a.kind()))) + (a.cleared() ? tr(" (cleared)") : QString()),
        where,
        a.run_id() ? QString::number(a.run_id()) : QString(),
        acknowledged_text(e),
        QString::fromStdString(a.message())};
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      QFont f = item->font();
      f.setBold(!e.acknowledged && !a.cleared());
      item->setFont(f);
      item->setData(Qt::UserRole, QVariant::fromValue<qulonglong>(a.id()));
      if (c == 1) {
        const bool quiet = e.acknowledged || a.cleared();
        item->setBackground(quiet ? kind_colour(a.kind()).lighter(175) : kind_colour(a.kind()));
        item->setForeground(quiet ? QColor(Qt::black) : QColor(Qt::white));
      }
      table_->setItem(row, c, item);
    }
  }
  table_->resizeColumnsToContents();
  emit unacknowledgedChanged(static_cast<int>(dashboard_.alarms().unacknowledged()));
}

void AlarmsView::acknowledge_selected() {
  std::vector<std::uint64_t> ids;
  for (const auto& index : table_->selectionModel()->selectedRows())
    ids.push_back(table_->item(index.row(), 0)->data(Qt::UserRole).toULongLong());
  dashboard_.acknowledge_alarms(ids);
  rebuild();
}

void AlarmsView::acknowledge_all() {
  dashboard_.acknowledge_all_alarms();
  rebuild();
}

void AlarmsView::jump(int row) {
  const auto& entries = dashboard_.alarms().entries();
  if (row < 0 || row >= static_cast<int>(entries.size())) return;
  const auto& alarm = entries[static_cast<std::size_t>(row)].alarm;
  // Jumping to it is looking at it.
  dashboard_.acknowledge_alarms({alarm.id()});
  rebuild();
  if (!alarm.serial().empty()) {
    emit chipRequested(QString::fromStdString(alarm.serial()));
  } else {
    emit labRequested();
  }
}

}  // namespace kiln::gui
