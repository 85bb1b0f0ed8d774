#include "gui/widgets/submit_dialog.hpp"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QTextBlock>
#include <QVBoxLayout>

#include "gui/dashboard.hpp"

namespace kiln::gui {

namespace {
constexpr qint64 kMaxPlanBytes = 1 << 20;  // the daemon refuses larger plans (DESIGN §4)
}

SubmitDialog::SubmitDialog(Dashboard& dashboard, QWidget* parent)
    : QDialog(parent),
      dashboard_(dashboard),
      file_(new QLineEdit),
      text_(new QPlainTextEdit),
      diagnostics_(new QListWidget),
      result_(new QLabel),
      seed_(new QLineEdit),
      submit_(new QPushButton(tr("&Submit"))) {
  setWindowTitle(tr("Submit a test plan"));
  resize(900, 640);
  file_->setReadOnly(true);
  auto* browse = new QPushButton(tr("&Open…"));
  auto* file_row = new QHBoxLayout;
  file_row->addWidget(file_, 1);
  file_row->addWidget(browse);
  text_->setReadOnly(true);
  text_->setLineWrapMode(QPlainTextEdit::NoWrap);
  text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  diagnostics_->setMaximumHeight(120);
  seed_->setPlaceholderText(tr("the plan's seed, or drawn"));
  seed_->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{0,19}")), seed_));
  auto* rack_row = new QHBoxLayout;
  for (const auto& rack : dashboard_.lab().racks()) {
    auto* box = new QCheckBox(QString::fromStdString(rack.rack));
    box->setChecked(true);
    racks_.push_back(box);
    rack_row->addWidget(box);
  }
  rack_row->addStretch(1);
  auto* form = new QFormLayout;
  form->addRow(tr("Plan file:"), file_row);
  form->addRow(tr("Racks:"), rack_row);
  form->addRow(tr("Seed:"), seed_);
  auto* validate_button = new QPushButton(tr("&Validate"));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  buttons->addButton(validate_button, QDialogButtonBox::ActionRole);
  buttons->addButton(submit_, QDialogButtonBox::AcceptRole);
  submit_->setEnabled(false);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(text_, 1);
  layout->addWidget(result_);
  layout->addWidget(diagnostics_);
  layout->addWidget(buttons);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a test plan"), path_, tr("Plans (*.yaml *.yml)"));
    if (!path.isEmpty()) load_file(path);
  });
  connect(validate_button, &QPushButton::clicked, this, &SubmitDialog::validate);
  connect(submit_, &QPushButton::clicked, this, &SubmitDialog::submit);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(diagnostics_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (auto* item = diagnostics_->item(row))
      jump_to(item->data(Qt::UserRole).toInt(), item->data(Qt::UserRole + 1).toInt());
  });
}

bool SubmitDialog::load_file(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly) || f.size() > kMaxPlanBytes) {
    result_->setText(tr("<b>Cannot read %1</b> (missing, unreadable or over 1 MiB)").arg(path.toHtmlEscaped()));
    return false;
  }
  path_ = path;
  file_->setText(path);
  text_->setPlainText(QString::fromUtf8(f.readAll()));
  text_->setExtraSelections({});
  diagnostics_->clear();
  result_->clear();
  submit_->setEnabled(false);
  validate();  // right away: the engineer wants to know before choosing racks
  return true;
}

kiln::v1::Envelope SubmitDialog::request(bool validate_only) const {
  kiln::v1::Envelope envelope;
  auto* submit = envelope.mutable_submit_run();
  submit->set_plan_text(text_->toPlainText().toStdString());
  submit->set_plan_path(QFileInfo(path_).fileName().toStdString());
  for (auto* box : racks_) {
    if (box->isChecked()) submit->add_racks(box->text().toStdString());
  }
  if (!seed_->text().isEmpty()) submit->set_seed(seed_->text().toULongLong());
  submit->set_validate_only(validate_only);
  return envelope;
}

void SubmitDialog::validate() {
  if (path_.isEmpty()) return;
  result_->setText(tr("Validating with the daemon…"));
  dashboard_.request(request(true), [this](const kiln::v1::Envelope& reply) { show_reply(reply, true); });
}

void SubmitDialog::submit() {
  if (path_.isEmpty()) return;
  submit_->setEnabled(false);
  result_->setText(tr("Submitting…"));
  dashboard_.request(request(false), [this](const kiln::v1::Envelope& reply) { show_reply(reply, false); });
}

void SubmitDialog::show_reply(const kiln::v1::Envelope& reply, bool validate_only) {
  diagnostics_->clear();
  QList<QTextEdit::ExtraSelection> marks;
  if (reply.has_error_reply()) {
    verdict_text_ = QString::fromStdString(reply.error_reply().message());
    result_->setText(tr("<b>The daemon could not check the plan:</b> %1").arg(verdict_text_.toHtmlEscaped()));
    emit checked();
    return;
  }
  const auto& answer = reply.submit_run_reply();
  for (const auto& d : answer.diagnostics()) {
    auto* item = new QListWidgetItem(QStringLiteral("%1:%2:%3: %4")
                                         .arg(QString::fromStdString(d.file()))
                                         .arg(d.line())
                                         .arg(d.column())
                                         .arg(QString::fromStdString(d.message())));
    item->setData(Qt::UserRole, static_cast<int>(d.line()));
    item->setData(Qt::UserRole + 1, static_cast<int>(d.column()));
    item->setForeground(QColor(0xd6, 0x27, 0x28));
    diagnostics_->addItem(item);
    QTextEdit::ExtraSelection mark;
    mark.cursor = QTextCursor(text_->document()->findBlockByNumber(static_cast<int>(d.line()) - 1));
    mark.format.setBackground(QColor(255, 220, 220));
    mark.format.setProperty(QTextFormat::FullWidthSelection, true);
    mark.format.setToolTip(QString::fromStdString(d.message()));
    marks.append(mark);
  }
  text_->setExtraSelections(marks);
  const bool ok = answer.diagnostics().empty() && answer.error().empty();
  if (!answer.error().empty()) {
    verdict_text_ = QString::fromStdString(answer.error());
  } else if (!ok) {
    verdict_text_ = tr("%n error(s) in the plan", "", answer.diagnostics_size());
  } else if (validate_only) {
    verdict_text_ = tr("The plan is valid.");
  } else {
    verdict_text_ = tr("Submitted as run %1.").arg(answer.run_id());
  }
  result_->setText(
      ok ? QStringLiteral("<span style='color:#2e9e4f'><b>%1</b></span>").arg(verdict_text_.toHtmlEscaped())
         : QStringLiteral("<span style='color:#d62728'><b>%1</b></span>").arg(verdict_text_.toHtmlEscaped()));
  if (ok && diagnostics_->count() == 0 && !marks.isEmpty()) diagnostics_->setCurrentRow(0);
  if (!ok && diagnostics_->count() > 0) diagnostics_->setCurrentRow(0);
  submit_->setEnabled(ok && validate_only);
  emit checked();
  if (!validate_only && answer.run_id() != 0) {
    emit submitted(answer.run_id());
    accept();
  }
}

void SubmitDialog::jump_to(int line, int column) {
  QTextCursor cursor(text_->document()->findBlockByNumber(std::max(0, line - 1)));
  cursor.movePosition(QTextCursor::Right, QTextCursor::MoveAnchor, std::max(0, column - 1));
  text_->setTextCursor(cursor);
  text_->centerCursor();
}

int SubmitDialog::diagnostics_shown() const { return diagnostics_->count(); }

}  // namespace kiln::gui
