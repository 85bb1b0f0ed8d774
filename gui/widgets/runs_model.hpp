#pragma once
// The runs list as a Qt table model over RunsTable (newest first).

#include <QAbstractTableModel>

namespace kiln::gui {

class Dashboard;

class RunsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kId, kPlan, kStatus, kProgress, kEta, kFailing, kRacks, kSubmitted, kColumns };
  static constexpr int kFractionRole = Qt::UserRole + 1;

  explicit RunsModel(Dashboard& dashboard, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  quint64 run_at(int row) const;
  int row_of(quint64 run_id) const;

 private:
  void refresh();

  Dashboard& dashboard_;
  int rows_ = 0;
};

}  // namespace kiln::gui
