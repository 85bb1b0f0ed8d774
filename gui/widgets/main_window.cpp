#include "gui/widgets/main_window.hpp"

#include <QApplication>
#include <QCloseEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

#include "gui/dashboard.hpp"
#include "gui/widgets/alarms_view.hpp"
#include "gui/widgets/chip_view.hpp"
#include "gui/widgets/connection_dialog.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/runs_view.hpp"
#include "gui/widgets/schedules_view.hpp"
#include "gui/widgets/submit_dialog.hpp"
#include "gui/widgets/tile_style.hpp"

namespace kiln::gui {

MainWindow::MainWindow(Dashboard& dashboard, QWidget* parent)
    : QMainWindow(parent),
      dashboard_(dashboard),
      tabs_(new QTabWidget),
      lab_(new LabPage(dashboard)),
      chip_(new ChipView(dashboard)),
      runs_(new RunsView(dashboard)),
      alarms_(new AlarmsView(dashboard)),
      schedules_(new SchedulesView(dashboard)),
      link_label_(new QLabel),
      alarm_label_(new QLabel) {
  setWindowTitle(tr("Kiln dashboard"));
  tabs_->addTab(lab_, tr("&Lab"));
  tabs_->addTab(chip_, tr("&Chip"));
  tabs_->addTab(runs_, tr("&Runs"));
  tabs_->addTab(alarms_, tr("&Alarms"));
  tabs_->addTab(schedules_, tr("&Schedules"));
  setCentralWidget(tabs_);
  statusBar()->addWidget(link_label_, 1);
  statusBar()->addPermanentWidget(alarm_label_);
  build_menus();

  connect(&lab_->view(), &LabView::chipActivated, this, &MainWindow::show_chip);
  connect(chip_, &ChipView::runRequested, this, &MainWindow::show_run);
  connect(runs_, &RunsView::chipRequested, this, &MainWindow::show_chip);
  connect(alarms_, &AlarmsView::chipRequested, this, &MainWindow::show_chip);
  connect(alarms_, &AlarmsView::labRequested, this, &MainWindow::show_lab);
  connect(alarms_, &AlarmsView::unacknowledgedChanged, this, &MainWindow::update_alarm_count);
  connect(schedules_, &SchedulesView::runRequested, this, &MainWindow::show_run);
  connect(&dashboard_, &Dashboard::linkChanged, this, &MainWindow::update_link);
  connect(&dashboard_, &Dashboard::notice, this,
          [this](const QString& text) { statusBar()->showMessage(text, 10000); });
  // The reconnect countdown moves without any event from the link.
  auto* ticker = new QTimer(this);
  connect(ticker, &QTimer::timeout, this, &MainWindow::update_link);
  ticker->start(1000);
  update_link();
  update_alarm_count(0);
}

void MainWindow::build_menus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Connect to daemon…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), this,
                  &MainWindow::open_connection_dialog);
  file->addAction(tr("&Submit a plan…"), QKeySequence(Qt::CTRL | Qt::Key_N), this, &MainWindow::open_submit_dialog);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(tr("&Lab"), QKeySequence(Qt::Key_F2), this, &MainWindow::show_lab);
  view->addAction(tr("&Chip"), QKeySequence(Qt::Key_F3), this, [this] { tabs_->setCurrentIndex(kChipTab); });
  view->addAction(tr("&Runs"), QKeySequence(Qt::Key_F4), this, [this] { tabs_->setCurrentIndex(kRunsTab); });
  view->addAction(tr("&Alarms"), QKeySequence(Qt::Key_F6), this, &MainWindow::show_alarms);
  view->addAction(tr("&Schedules"), QKeySequence(Qt::Key_F7), this, &MainWindow::show_schedules);
  view->addSeparator();
  int n = 0;
  for (ColourMode mode : kColourModes) {
    const int index = n++;
    view->addAction(tr("Colour by %1").arg(mode_name(mode).toLower()), QKeySequence(Qt::CTRL | (Qt::Key_1 + index)),
                    this, [this, index] {
                      lab_->set_mode_index(index);
                      show_lab();
                    });
  }

  QMenu* runs = menuBar()->addMenu(tr("&Run"));
  runs->addAction(tr("&Refresh list"), QKeySequence::Refresh, &dashboard_, &Dashboard::refresh_runs);
  runs->addAction(tr("&Abort selected run…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A), runs_,
                  &RunsView::abort_selected);

  QMenu* alarms = menuBar()->addMenu(tr("&Alarms"));
  alarms->addAction(tr("Acknowledge &all"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K), alarms_,
                    &AlarmsView::acknowledge_all);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About kiln-dash"), this, [this] {
    QMessageBox::about(
        this, tr("About kiln-dash"),
        tr("<b>kiln-dash</b> — the Kiln lab dashboard.<br>A client of kilnd: it never opens the "
           "database.<br><br>F2 lab · F3 chip · F4 runs · F6 alarms · F7 schedules · Ctrl+1…6 tile colouring · "
           "Ctrl+N submit a plan · Ctrl+Shift+C connect"));
  });
}

void MainWindow::show_lab() { tabs_->setCurrentIndex(kLabTab); }

void MainWindow::show_chip(const QString& serial) {
  if (serial != chip_->serial() || !chip_->loaded()) chip_->open(serial);
  tabs_->setCurrentIndex(kChipTab);
}

void MainWindow::show_run(quint64 run_id) {
  runs_->select_run(run_id);
  tabs_->setCurrentIndex(kRunsTab);
}

void MainWindow::show_alarms() { tabs_->setCurrentIndex(kAlarmsTab); }

void MainWindow::show_runs() { tabs_->setCurrentIndex(kRunsTab); }

void MainWindow::show_schedules() { tabs_->setCurrentIndex(kSchedulesTab); }

void MainWindow::open_connection_dialog() {
  QSettings settings;
  ConnectionDialog dialog(settings.value("daemon/host", "127.0.0.1").toString(),
                          settings.value("daemon/port", 7450).toInt(), settings.value("daemon/token_file").toString(),
                          this);
  if (dialog.exec() != QDialog::Accepted) return;
  auto config = dialog.config();
  if (!config) return;
  config->tls = dashboard_.config().tls;  // the command line's TLS holds for every daemon chosen here
  settings.setValue("daemon/host", dialog.host());
  settings.setValue("daemon/port", dialog.port());
  settings.setValue("daemon/token_file", dialog.token_file());
  dashboard_.connect_to(*config);
}

void MainWindow::open_submit_dialog() {
  auto* dialog = new SubmitDialog(dashboard_, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &SubmitDialog::submitted, this, [this](quint64 run_id) {
    dashboard_.refresh_runs();
    show_run(run_id);
  });
  dialog->open();
}

QString MainWindow::link_text() const { return link_label_->text(); }

void MainWindow::update_link() {
  const LinkState& link = dashboard_.link();
  const QString where = QString::fromStdString(link.endpoint);
  QString text;
  QString colour = verdict_colour("error").name();
  switch (link.phase) {
    case LinkPhase::connected:
      text = tr("● connected to %1 (%2)").arg(where, QString::fromStdString(link.detail));
      colour = verdict_colour("pass").name();
      break;
    case LinkPhase::connecting: text = tr("● connecting to %1…").arg(where); break;
    case LinkPhase::reconnecting: {
      const auto wait_s = std::max<std::int64_t>(0, (link.next_try_unix_ms - Dashboard::local_now_ms() + 999) / 1000);
      text = tr("● reconnecting to %1 (attempt %2%3): %4")
                 .arg(where)
                 .arg(link.attempt)
                 .arg(wait_s > 0 ? tr(", next try in %1 s").arg(wait_s) : QString())
                 .arg(QString::fromStdString(link.detail));
      colour = verdict_colour("marginal").name();
      break;
    }
    case LinkPhase::disconnected: text = tr("● not connected — File ▸ Connect to daemon… (Ctrl+Shift+C)"); break;
  }
  link_label_->setText(QStringLiteral("<span style='color:%1'>%2</span>").arg(colour, text.toHtmlEscaped()));
}

void MainWindow::update_alarm_count(int unacknowledged) {
  alarm_label_->setText(unacknowledged > 0
                            ? tr("<b style='color:#d62728'>%n unacknowledged alarm(s)</b>", "", unacknowledged)
                            : tr("no new alarms"));
  tabs_->setTabText(kAlarmsTab, unacknowledged > 0 ? tr("&Alarms (%1)").arg(unacknowledged) : tr("&Alarms"));
}

void MainWindow::restore_settings() {
  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  lab_->set_mode_index(settings.value("lab/colour", 0).toInt());
}

void MainWindow::save_settings() const {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("lab/colour", lab_->mode_index());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  save_settings();
  event->accept();
}

}  // namespace kiln::gui
