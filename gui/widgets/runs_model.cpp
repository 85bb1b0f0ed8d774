#include "gui/widgets/runs_model.hpp"

#include <QColor>

#include "gui/dashboard.hpp"
#include "gui/widgets/tile_style.hpp"

namespace kiln::gui {

RunsModel::RunsModel(Dashboard& dashboard, QObject* parent) : QAbstractTableModel(parent), dashboard_(dashboard) {
  connect(&dashboard_, &Dashboard::runsUpdated, this, &RunsModel::refresh);
}

void RunsModel::refresh() {
  const int rows = static_cast<int>(dashboard_.runs().rows().size());
  if (rows != rows_) {
    beginResetModel();
    rows_ = rows;
    endResetModel();
    return;
  }
  if (rows_ > 0) emit dataChanged(index(0, 0), index(rows_ - 1, kColumns - 1));
}

int RunsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : rows_; }
int RunsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumns; }

quint64 RunsModel::run_at(int row) const {
  const auto& rows = dashboard_.runs().rows();
  return row >= 0 && row < static_cast<int>(rows.size()) ? rows[static_cast<std::size_t>(row)].id : 0;
}

int RunsModel::row_of(quint64 run_id) const {
  const auto& rows = dashboard_.runs().rows();
  for (int i = 0; i < static_cast<int>(rows.size()) && i < rows_; ++i) {
    if (rows[static_cast<std::size_t>(i)].id == run_id) return i;
  }
  return -1;
}

QVariant RunsModel::data(const QModelIndex& index, int role) const {
  const auto& rows = dashboard_.runs().rows();
  if (!index.isValid() || index.row() >= static_cast<int>(rows.size())) return {};
  const RunRow& r = rows[static_cast<std::size_t>(index.row())];
  if (role == kFractionRole) return r.status == "completed" ? 1.0 : r.fraction();
  if (role == Qt::BackgroundRole && index.column() == kStatus) {
    if (r.status == "running") return verdict_colour("running").lighter(170);
    if (r.status == "aborted" || r.status == "error") return verdict_colour("error").lighter(170);
    if (r.status == "queued") return verdict_colour("marginal").lighter(190);
    return {};
  }
  if (role == Qt::ForegroundRole && index.column() == kProgress && r.status == "queued")
    return QColor(0x80, 0x5a, 0x00);
  if (role == Qt::ForegroundRole && index.column() == kFailing && r.failing > 0) return QColor(0xd6, 0x27, 0x28);
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (index.column()) {
    case kId: return QVariant::fromValue<qulonglong>(r.id);
    case kPlan: return QString::fromStdString(r.plan);
    case kStatus:
      if (r.status == "queued" && role == Qt::ToolTipRole && !r.waiting.empty())
        return QString::fromStdString(r.waiting);
      if (r.status == "queued" && r.queue_position > 0) return tr("queued (#%1)").arg(r.queue_position);
      return role == Qt::ToolTipRole && !r.reason.empty() ? QString::fromStdString(r.reason)
                                                          : QString::fromStdString(r.status);
    case kProgress:
      if (r.status == "running") {
        return tr("phase %1/%2 %3 · %4 of %5")
            .arg(r.phase)
            .arg(r.phases)
            .arg(QString::fromStdString(r.step), QString::fromStdString(format_seconds(r.elapsed_s)),
                 QString::fromStdString(format_seconds(r.total_s)));
      }
      // A queued run says why it waits (the daemon's words: "waiting for r02: leased by run 14 until 06:10").
      if (r.status == "queued") return r.waiting.empty() ? tr("waiting") : QString::fromStdString(r.waiting);
      return r.status == "completed" ? tr("done") : QString();
    case kEta:
      if (r.status != "running") return QString();
      return r.eta_s ? QString::fromStdString(format_seconds(*r.eta_s)) : tr("estimating…");
    case kFailing: return r.active() ? QVariant::fromValue<qulonglong>(r.failing) : QVariant();
    case kRacks: {
      QStringList racks;
      for (const auto& rack : r.racks) racks << QString::fromStdString(rack);
      return racks.join(QStringLiteral(", "));
    }
    case kSubmitted: return QString::fromStdString(r.submitted);
    default: return {};
  }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const kNames[] = {"Run", "Plan", "Status", "Progress", "ETA", "Failing", "Racks", "Submitted"};
  return section >= 0 && section < kColumns ? tr(kNames[section]) : QVariant();
}

}  // namespace kiln::gui
