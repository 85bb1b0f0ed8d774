// The runs view's verdict table: failing chips first, sortable by any
// column, filtered by serial, rack or verdict.

#include <QLineEdit>
#include <QTableView>

#include <gtest/gtest.h>

#include "gui/dashboard.hpp"
#include "gui/widgets/runs_view.hpp"
#include "gui/widgets/verdict_table.hpp"

namespace kiln::gui {
namespace {

VerdictMatrix four_chips() {
  VerdictMatrix m;
  m.run_id = 3;
  m.status = "completed";
  m.steps = {"gemm-bf16", "hbm-stream"};
  m.serials = {"TRN-0001", "TRN-0002", "TRN-0003", "TRN-0004", "TRN-0005"};
  m.racks = {"r01", "r01", "r02", "r02", "r02"};
  m.chip_verdicts = {"pass", "fail", "marginal", "error", "fail"};
  m.cells = {{"pass", "pass"}, {"fail", "pass"}, {"pass", "marginal"}, {"error", ""}, {"pass", "fail"}};
  m.reasons = {{"", ""}, {"sdc_errors 12 > 0", ""}, {"", "hbm_gbps avg"}, {"agent lost", ""}, {"", "hbm ue"}};
  return m;
}

QStringList column_of(const QTableView& table, int column) {
  QStringList out;
  for (int r = 0; r < table.model()->rowCount(); ++r) out << table.model()->index(r, column).data().toString();
  return out;
}

TEST(RunsView, VerdictTableListsFailingChipsFirstAndSortsOnAHeaderClick) {
  Dashboard dashboard;
  RunsView view(dashboard);
  view.show_matrix(four_chips());
  QTableView& table = *view.verdict_table();
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial),
            QStringList({"TRN-0002", "TRN-0005", "TRN-0004", "TRN-0003", "TRN-0001"}))
      << "fail, then error, marginal, pass";
  table.sortByColumn(VerdictTableModel::kSerial, Qt::AscendingOrder);
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial),
            QStringList({"TRN-0001", "TRN-0002", "TRN-0003", "TRN-0004", "TRN-0005"}));
  table.sortByColumn(VerdictTableModel::kFirstStep + 1, Qt::AscendingOrder);  // hbm-stream
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial).front(), "TRN-0005") << "the chip that failed that step";
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial).back(), "TRN-0002") << "passes last";
}

TEST(RunsView, VerdictFilterBySerialRackOrVerdict) {
  Dashboard dashboard;
  RunsView view(dashboard);
  view.show_matrix(four_chips());
  QTableView& table = *view.verdict_table();
  view.verdict_filter()->setText("fail");
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial), QStringList({"TRN-0002", "TRN-0005"}));
  view.verdict_filter()->setText("trn-0003");
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial), QStringList({"TRN-0003"})) << "case does not matter";
  view.verdict_filter()->setText("r01");
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial), QStringList({"TRN-0002", "TRN-0001"}));
  view.verdict_filter()->clear();
  EXPECT_EQ(table.model()->rowCount(), 5);
  // A new matrix (the run went on) keeps the order and the filter.
  view.verdict_filter()->setText("error");
  view.show_matrix(four_chips());
  EXPECT_EQ(column_of(table, VerdictTableModel::kSerial), QStringList({"TRN-0004"}));
}

}  // namespace
}  // namespace kiln::gui
