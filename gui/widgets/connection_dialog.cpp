#include "gui/widgets/connection_dialog.hpp"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace kiln::gui {

ConnectionDialog::ConnectionDialog(const QString& host, int port, const QString& token_file, QWidget* parent)
    : QDialog(parent),
      host_(new QLineEdit(host)),
      port_(new QSpinBox),
      token_file_(new QLineEdit(token_file)),
      token_(new QLineEdit),
      error_(new QLabel) {
  setWindowTitle(tr("Connect to a Kiln daemon"));
  port_->setRange(1, 65535);
  port_->setValue(port);
  token_->setEchoMode(QLineEdit::Password);
  token_->setPlaceholderText(tr("or type the shared secret"));
  error_->setStyleSheet(QStringLiteral("color:#d62728"));
  auto* browse = new QPushButton(tr("…"));
  auto* file_row = new QHBoxLayout;
  file_row->addWidget(token_file_, 1);
  file_row->addWidget(browse);
  auto* form = new QFormLayout(this);
  form->addRow(tr("&Host:"), host_);
  form->addRow(tr("&Port:"), port_);
  form->addRow(tr("&Token file:"), file_row);
  form->addRow(tr("Or &credential:"), token_);
  form->addRow(error_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("&Connect"));
  form->addRow(buttons);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Token file"), token_file_->text());
    if (!path.isEmpty()) token_file_->setText(path);
  });
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    if (config()) accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

QString ConnectionDialog::host() const { return host_->text().trimmed(); }
int ConnectionDialog::port() const { return port_->value(); }
QString ConnectionDialog::token_file() const { return token_file_->text().trimmed(); }

std::optional<LinkConfig> ConnectionDialog::config() {
  LinkConfig config;
  config.endpoint = Endpoint{host().toStdString(), static_cast<std::uint16_t>(port())};
  if (host().isEmpty()) {
    error_->setText(tr("A host is needed."));
    return std::nullopt;
  }
  if (!token_->text().isEmpty()) {
    config.credential = token_->text().toStdString();
    return config;
  }
  auto token = read_token_file(token_file().toStdString());
  if (!token) {
    error_->setText(QString::fromStdString(token.error().message));
    return std::nullopt;
  }
  config.credential = *token;
  return config;
}

}  // namespace kiln::gui
