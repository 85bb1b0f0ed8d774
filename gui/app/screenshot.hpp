#pragma once
// Headless capture (for tests and docs): wait until the dashboard has live
// data and the requested view has loaded what it shows, then render the
// window to a PNG. Polls on the GUI thread's event loop, never blocks it.

#include <QObject>
#include <QString>
#include <QTimer>

#include <functional>

#include "gui/app/options.hpp"

namespace kiln::gui {

class Dashboard;
class MainWindow;

class ScreenshotTaker : public QObject {
  Q_OBJECT

 public:
  static constexpr int kPollMs = 100;
  // Live samples the chip view must have drawn, so its charts show a line.
  static constexpr std::size_t kMinLivePoints = 3;

  ScreenshotTaker(Dashboard& dashboard, MainWindow& window, DashView view, QString path, int timeout_s,
                  QObject* parent = nullptr);
  void start();

 signals:
  // ok: the PNG was written; otherwise message says what never became ready.
  void finished(bool ok, QString message);

 private:
  void poll();
  bool ready();
  void capture();

  Dashboard& dashboard_;
  MainWindow& window_;
  DashView view_;
  QString path_;
  int timeout_ms_;
  QTimer timer_;
  qint64 started_ms_ = 0;
  qint64 ready_since_ms_ = 0;
  bool opened_ = false;
  QString waiting_for_;
};

}  // namespace kiln::gui
