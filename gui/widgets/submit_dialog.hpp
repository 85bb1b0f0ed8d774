#pragma once
// Submit a plan: open a YAML file, validate it through the daemon (the same
// checks a submission gets), see each error at its line and column in a
// read-only view of the file, choose racks and seed, submit.

#include <QDialog>

#include <vector>

#include "schema/kiln.pb.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;

namespace kiln::gui {

class Dashboard;

class SubmitDialog : public QDialog {
  Q_OBJECT

 public:
  explicit SubmitDialog(Dashboard& dashboard, QWidget* parent = nullptr);

  bool load_file(const QString& path);
  void validate();
  void submit();
  int diagnostics_shown() const;
  const QString& verdict_text() const { return verdict_text_; }

 signals:
  void submitted(quint64 run_id);
  void checked();  // a validation or submission answer was shown

 private:
  kiln::v1::Envelope request(bool validate_only) const;
  void show_reply(const kiln::v1::Envelope& reply, bool validate_only);
  void jump_to(int line, int column);

  Dashboard& dashboard_;
  QString path_;
  QLineEdit* file_;
  QPlainTextEdit* text_;
  QListWidget* diagnostics_;
  QLabel* result_;
  QLineEdit* seed_;
  std::vector<QCheckBox*> racks_;
  QPushButton* submit_;
  QString verdict_text_;
};

}  // namespace kiln::gui
