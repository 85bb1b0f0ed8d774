#pragma once
// A run's chips × steps verdicts as a Qt table model (a row per chip: serial,
// rack, chip verdict, then a column per step) and the proxy the runs view
// shows it through: sortable by any column (a verdict column by severity,
// failing first), filtered by a text that a chip's serial, rack or any of its
// verdicts contains. Failing chips come first until the user sorts otherwise.

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include "gui/model/report_data.hpp"

namespace kiln::gui {

class VerdictTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kSerial, kRack, kChipVerdict, kFirstStep };
  static constexpr int kSortRole = Qt::UserRole + 1;
  static constexpr int kSerialRole = Qt::UserRole + 2;

  using QAbstractTableModel::QAbstractTableModel;

  void set_matrix(VerdictMatrix matrix);
  const VerdictMatrix& matrix() const { return matrix_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  VerdictMatrix matrix_;
};

// How bad a verdict is, for sorting: fail first, pass last, pending after the decided ones.
int verdict_severity(const std::string& verdict);

class VerdictFilterModel : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit VerdictFilterModel(QObject* parent = nullptr);
  // Case-insensitive text a row's serial, rack or a verdict must contain; empty shows every chip.
  void set_filter_text(const QString& text);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

 private:
  QString text_;
};

}  // namespace kiln::gui
