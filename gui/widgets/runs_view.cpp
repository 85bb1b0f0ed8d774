#include "gui/widgets/runs_view.hpp"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <map>

#include "gui/dashboard.hpp"
#include "gui/widgets/runs_model.hpp"
#include "gui/widgets/tile_style.hpp"
#include "gui/widgets/verdict_table.hpp"

namespace kiln::gui {

namespace {

// The progress column: a bar behind the text.
class ProgressDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    const double fraction = index.data(RunsModel::kFractionRole).toDouble();
    if (fraction > 0) {
      QRect bar = option.rect.adjusted(2, 3, -2, -3);
      bar.setWidth(static_cast<int>(bar.width() * fraction));
      painter->fillRect(bar, verdict_colour("running").lighter(165));
    }
    QStyledItemDelegate::paint(painter, option, index);
  }
};

}  // namespace

RunsView::RunsView(Dashboard& dashboard, QWidget* parent)
    : QWidget(parent),
      dashboard_(dashboard),
      model_(new RunsModel(dashboard, this)),
      table_(new QTableView),
      title_(new QLabel),
      progress_(new QProgressBar),
      abort_(new QPushButton(tr("Abort run…"))),
      verdicts_(new VerdictTableModel(this)),
      shown_(new VerdictFilterModel(this)),
      filter_(new QLineEdit),
      matrix_(new QTableView) {
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setItemDelegateForColumn(RunsModel::kProgress, new ProgressDelegate(table_));
  table_->setAlternatingRowColors(true);
  table_->setColumnWidth(RunsModel::kId, 50);
  table_->setColumnWidth(RunsModel::kProgress, 320);
  shown_->setSourceModel(verdicts_);
  matrix_->setModel(shown_);
  matrix_->setSortingEnabled(true);
  matrix_->sortByColumn(VerdictTableModel::kChipVerdict, Qt::AscendingOrder);
  matrix_->verticalHeader()->setVisible(false);
  matrix_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  matrix_->horizontalHeader()->setMinimumSectionSize(96);
  matrix_->setSelectionBehavior(QAbstractItemView::SelectRows);
  filter_->setPlaceholderText(tr("Filter chips: serial, rack or verdict (e.g. fail)"));
  filter_->setClearButtonEnabled(true);
  filter_->setMinimumWidth(240);
  abort_->setEnabled(false);
  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  progress_->setMaximumHeight(10);

  auto* detail = new QWidget;
  auto* top = new QHBoxLayout;
  title_->setWordWrap(true);
  top->addWidget(title_, 1);
  top->addWidget(abort_);
  auto* dl = new QVBoxLayout(detail);
  dl->setContentsMargins(0, 0, 0, 0);
  dl->addLayout(top);
  dl->addWidget(progress_);
  auto* verdicts_bar = new QHBoxLayout;
  auto* verdicts_label =
      new QLabel(tr("<b>Verdicts</b>: chips × steps, failing first (click a header to sort; "
                    "double-click a chip to open it; hover a cell for the reason)"));
  verdicts_label->setWordWrap(true);  // the window's minimum width stays the table's, not this line's
  verdicts_bar->addWidget(verdicts_label, 1);
  verdicts_bar->addWidget(filter_);
  dl->addLayout(verdicts_bar);
  dl->addWidget(matrix_, 1);

  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(detail);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 3);
  split->setSizes({160, 600});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);

  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
    if (current.isValid()) select_run(model_->run_at(current.row()));
  });
  connect(model_, &QAbstractItemModel::modelReset, this, [this] {
    if (selected_ == 0 && model_->rowCount() > 0) {
      select_run(model_->run_at(0));
    } else if (selected_ != 0) {
      const int row = model_->row_of(selected_);
      if (row >= 0) table_->selectRow(row);
    }
  });
  connect(&dashboard_, &Dashboard::runsUpdated, this, &RunsView::update_detail);
  connect(abort_, &QPushButton::clicked, this, &RunsView::abort_selected);
  connect(matrix_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    if (index.isValid()) emit chipRequested(index.data(VerdictTableModel::kSerialRole).toString());
  });
  connect(filter_, &QLineEdit::textChanged, shown_, &VerdictFilterModel::set_filter_text);
  auto* timer = new QTimer(this);
  connect(timer, &QTimer::timeout, this, [this] {
    const RunRow* r = dashboard_.runs().find(selected_);
    if (r != nullptr && r->status == "running" && isVisible()) load_matrix();
  });
  timer->start(kMatrixRefreshMs);
}

void RunsView::select_run(quint64 run_id) {
  if (run_id == selected_ && matrix_loaded_) return;
  if (run_id != selected_) verdict_summary_.clear();
  selected_ = run_id;
  matrix_loaded_ = false;
  const int row = model_->row_of(run_id);
  if (row >= 0 && table_->currentIndex().row() != row) table_->selectRow(row);
  update_detail();
  load_matrix();
}

void RunsView::update_detail() {
  const RunRow* r = dashboard_.runs().find(selected_);
  if (r == nullptr) {
    title_->setText(selected_ == 0 ? tr("No run selected") : tr("Run %1").arg(selected_));
    abort_->setEnabled(false);
    progress_->setValue(0);
    return;
  }
  QString text = tr("<b>Run %1</b> · %2 · <b>%3</b>")
                     .arg(r->id)
                     .arg(QString::fromStdString(r->plan), QString::fromStdString(r->status));
  if (r->status == "running") {
    text += tr(" · phase %1/%2 %3 · %4 of %5 simulated · ETA %6")
                .arg(r->phase)
                .arg(r->phases)
                .arg(QString::fromStdString(r->step), QString::fromStdString(format_seconds(r->elapsed_s)),
                     QString::fromStdString(format_seconds(r->total_s)),
                     r->eta_s ? QString::fromStdString(format_seconds(*r->eta_s)) : tr("estimating…"));
  }
  if (r->status == "queued") {
    // Where it stands and why it waits, in full (the table's cell may cut it short).
    if (r->queue_position > 0) text += tr(" #%1 in the queue").arg(r->queue_position);
    if (!r->waiting.empty())
      text += QStringLiteral(" · <span style='color:#805a00'>%1</span>")
                  .arg(QString::fromStdString(r->waiting).toHtmlEscaped());
  }
  if (!r->reason.empty()) text += QStringLiteral(" · ") + QString::fromStdString(r->reason).toHtmlEscaped();
  if (!r->ended.empty()) text += tr(" · ended %1").arg(QString::fromStdString(r->ended));
  if (!verdict_summary_.isEmpty()) text += QStringLiteral(" · ") + verdict_summary_;
  title_->setText(text);
  progress_->setValue(static_cast<int>((r->status == "completed" ? 1.0 : r->fraction()) * 1000));
  abort_->setEnabled(r->active());
  // A run that just ended: its final verdicts.
  if (!r->active() && matrix_loaded_ && matrix_->property("status").toString() != QString::fromStdString(r->status)) {
    load_matrix();
  }
}

void RunsView::abort_selected() {
  const RunRow* r = dashboard_.runs().find(selected_);
  if (r == nullptr || !r->active()) return;
  const auto answer = QMessageBox::warning(
      this, tr("Abort run %1").arg(r->id),
      tr("Abort run %1 (%2)?\n\nThe current step is judged on what arrived; the steps not run are recorded as "
         "inconclusive.")
          .arg(r->id)
          .arg(QString::fromStdString(r->plan)),
      QMessageBox::Abort | QMessageBox::Cancel, QMessageBox::Cancel);
  if (answer != QMessageBox::Abort) return;
  kiln::v1::Envelope request;
  request.mutable_abort_run()->set_run_id(r->id);
  request.mutable_abort_run()->set_reason("aborted from kiln-dash");
  dashboard_.request(request, [this](const kiln::v1::Envelope& reply) {
    if (reply.has_error_reply()) {
      QMessageBox::warning(this, tr("Abort"), QString::fromStdString(reply.error_reply().message()));
    }
    dashboard_.refresh_runs();
  });
}

void RunsView::load_matrix() {
  if (selected_ == 0) return;
  const std::uint64_t generation = ++generation_;
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::REPORT);
  q.set_run_id(selected_);
  dashboard_.query(q, [this, generation](const Result<std::string>& body) {
    if (generation != generation_ || !body) return;
    if (auto matrix = VerdictMatrix::from_report_json(*body)) show_matrix(*matrix);
  });
}

void RunsView::show_matrix(const VerdictMatrix& m) {
  matrix_->setProperty("status", QString::fromStdString(m.status));
  verdicts_->set_matrix(m);
  matrix_->resizeColumnsToContents();
  std::map<std::string, int> counts;
  for (const auto& v : m.chip_verdicts) ++counts[v.empty() ? "pending" : v];
  QStringList parts;
  for (const char* v : {"pass", "marginal", "fail", "error", "inconclusive", "pending"}) {
    auto it = counts.find(v);
    if (it == counts.end()) continue;
    parts << QStringLiteral("<span style='color:%1'><b>%2 %3</b></span>")
                 .arg(verdict_colour(v == std::string("pending") ? "running" : v).name())
                 .arg(it->second)
                 .arg(QString::fromLatin1(v));
  }
  verdict_summary_ = parts.join(QStringLiteral(" · "));
  matrix_loaded_ = true;
  update_detail();
}

}  // namespace kiln::gui
