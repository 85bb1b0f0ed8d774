#include "gui/widgets/verdict_table.hpp"

#include <QColor>

#include "gui/widgets/tile_style.hpp"

namespace kiln::gui {

int verdict_severity(const std::string& v) {
  if (v == "fail") return 0;
  if (v == "error") return 1;
  if (v == "over_limit") return 2;
  if (v == "marginal") return 3;
  if (v == "inconclusive") return 4;
  if (v == "pass") return 6;
  return 5;  // pending: not decided yet, between the decided problems and the passes
}

void VerdictTableModel::set_matrix(VerdictMatrix matrix) {
  beginResetModel();
  matrix_ = std::move(matrix);
  endResetModel();
}

int VerdictTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(matrix_.serials.size());
}

int VerdictTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kFirstStep + static_cast<int>(matrix_.steps.size());
}

QVariant VerdictTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const auto row = static_cast<std::size_t>(index.row());
  const int column = index.column();
  if (role == kSerialRole) return QString::fromStdString(matrix_.serials[row]);
  if (column == kSerial || column == kRack) {
    const std::string& text = column == kSerial ? matrix_.serials[row] : matrix_.racks[row];
    if (role == Qt::DisplayRole || role == kSortRole) return QString::fromStdString(text);
    return {};
  }
  const bool chip = column == kChipVerdict;
  const auto step = static_cast<std::size_t>(column - kFirstStep);
  if (!chip && step >= matrix_.steps.size()) return {};
  const std::string& verdict = chip ? matrix_.chip_verdicts[row] : matrix_.cells[row][step];
  switch (role) {
    case Qt::DisplayRole: return verdict.empty() ? tr("…") : QString::fromStdString(verdict);
    case kSortRole: return verdict_severity(verdict);
    case Qt::TextAlignmentRole: return int(Qt::AlignCenter);
    case Qt::BackgroundRole: return verdict.empty() ? QVariant() : QVariant(verdict_colour(verdict));
    case Qt::ForegroundRole:
      if (verdict.empty()) return {};
      return verdict == "marginal" ? QColor(Qt::black) : QColor(Qt::white);
    case Qt::ToolTipRole:
      if (chip || matrix_.reasons[row][step].empty()) return {};
      return QString::fromStdString(matrix_.reasons[row][step]);
    default: return {};
  }
}

QVariant VerdictTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section == kSerial) return tr("chip");
  if (section == kRack) return tr("rack");
  if (section == kChipVerdict) return tr("chip verdict");
  const auto step = static_cast<std::size_t>(section - kFirstStep);
  return step < matrix_.steps.size() ? QString::fromStdString(matrix_.steps[step]) : QVariant();
}

VerdictFilterModel::VerdictFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(VerdictTableModel::kSortRole);
  setDynamicSortFilter(true);
  // Failing chips first (the views sort by the chip verdict until told otherwise).
  sort(VerdictTableModel::kChipVerdict, Qt::AscendingOrder);
}

void VerdictFilterModel::set_filter_text(const QString& text) {
  text_ = text.trimmed();
  invalidateFilter();
}

bool VerdictFilterModel::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  if (text_.isEmpty()) return true;
  const QAbstractItemModel* model = sourceModel();
  for (int c = 0; c < model->columnCount(source_parent); ++c) {
    if (model->index(source_row, c, source_parent)
            .data(Qt::DisplayRole)
            .toString()
            .contains(text_, Qt::CaseInsensitive))
      return true;
  }
  return false;
}

bool VerdictFilterModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const QVariant a = left.data(sortRole()), b = right.data(sortRole());
  if (a != b) return QSortFilterProxyModel::lessThan(left, right);
  // Ties in serial order, so equal verdicts list predictably.
  return left.data(VerdictTableModel::kSerialRole).toString() < right.data(VerdictTableModel::kSerialRole).toString();
}

}  // namespace kiln::gui
