#pragma once
// Which daemon to watch: host, port and the credential (typed, or read from
// a token file as the CLI does).

#include <QDialog>

#include <optional>

#include "gui/net/daemon_link.hpp"

class QLineEdit;
class QSpinBox;
class QLabel;

namespace kiln::gui {

class ConnectionDialog : public QDialog {
  Q_OBJECT

 public:
  ConnectionDialog(const QString& host, int port, const QString& token_file, QWidget* parent = nullptr);

  QString host() const;
  int port() const;
  QString token_file() const;
  // The link configuration, or nullopt with the reason shown in the dialog.
  std::optional<LinkConfig> config();

 private:
  QLineEdit* host_;
  QSpinBox* port_;
  QLineEdit* token_file_;
  QLineEdit* token_;
  QLabel* error_;
};

}  // namespace kiln::gui
