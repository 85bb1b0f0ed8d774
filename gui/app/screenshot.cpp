#include "gui/app/screenshot.hpp"

#include <QDateTime>
#include <QPixmap>

#include "gui/dashboard.hpp"
#include "gui/widgets/chip_view.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/main_window.hpp"
#include "gui/widgets/runs_view.hpp"
#include "metrics/catalog.hpp"

namespace kiln::gui {

namespace {
// Ready must hold this long before the capture: the chip view redraws its
// charts every 250 ms and the lab repaints on the next refresh.
constexpr qint64 kSettleMs = 800;
}  // namespace

ScreenshotTaker::ScreenshotTaker(Dashboard& dashboard, MainWindow& window, DashView view, QString path, int timeout_s,
                                 QObject* parent)
    : QObject(parent),
      dashboard_(dashboard),
      window_(window),
      view_(std::move(view)),
      path_(std::move(path)),
      timeout_ms_(timeout_s * 1000) {
  timer_.setInterval(kPollMs);
  connect(&timer_, &QTimer::timeout, this, &ScreenshotTaker::poll);
}

void ScreenshotTaker::start() {
  started_ms_ = QDateTime::currentMSecsSinceEpoch();
  timer_.start();
}

bool ScreenshotTaker::ready() {
  if (dashboard_.link().phase != LinkPhase::connected) {
    waiting_for_ = tr("a connection to the daemon (%1)").arg(QString::fromStdString(dashboard_.link().detail));
    return false;
  }
  if (!dashboard_.has_live_data() || dashboard_.lab().chips().empty()) {
    waiting_for_ = tr("live data from the daemon");
    return false;
  }
  switch (view_.kind) {
    case DashView::Kind::lab:
      window_.show_lab();
      // Coloured by lifecycle state: once the daemon's inventory has said them.
      if (window_.lab_page().view().mode() == ColourMode::lifecycle && !dashboard_.lab().lifecycle().loaded()) {
        waiting_for_ = tr("the chips' lifecycle states");
        return false;
      }
      return true;
    case DashView::Kind::runs:
      window_.show_runs();
      if (dashboard_.runs().rows().empty()) {
        waiting_for_ = tr("the daemon's run list");
        return false;
      }
      return true;
    case DashView::Kind::schedules:
      window_.show_schedules();
      if (!dashboard_.schedules().loaded()) {
        waiting_for_ = tr("the daemon's schedules (or its refusal)");
        return false;
      }
      return true;
    case DashView::Kind::chip: {
      const ChipState* chip = dashboard_.lab().find(view_.serial.toStdString());
      if (chip == nullptr) {
        waiting_for_ = tr("chip %1 to appear in the lab").arg(view_.serial);
        return false;
      }
      if (!opened_) {
        window_.show_chip(view_.serial);
        opened_ = true;
      }
      const ChipSeries* series = window_.chip_view().series();
      const auto* temps = series ? series->series(metrics::kTemperatureC.str()) : nullptr;
      const bool drawn = temps != nullptr && temps->size() >= kMinLivePoints;
      if (!window_.chip_view().loaded() || (chip->run_id != 0 && !drawn)) {
        waiting_for_ = tr("chip %1's telemetry").arg(view_.serial);
        return false;
      }
      return true;
    }
    case DashView::Kind::run:
      if (dashboard_.runs().find(view_.run_id) == nullptr) {
        waiting_for_ = tr("run %1 in the daemon's run list").arg(view_.run_id);
        return false;
      }
      if (!opened_) {
        window_.show_run(view_.run_id);
        opened_ = true;
      }
      if (!window_.runs_view().matrix_loaded()) {
        waiting_for_ = tr("run %1's verdicts").arg(view_.run_id);
        return false;
      }
      return true;
  }
  return false;
}

void ScreenshotTaker::poll() {
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (!ready()) {
    ready_since_ms_ = 0;
    if (now - started_ms_ > timeout_ms_) {
      timer_.stop();
      emit finished(false, tr("timed out after %1 s waiting for %2").arg(timeout_ms_ / 1000).arg(waiting_for_));
    }
    return;
  }
  if (ready_since_ms_ == 0) ready_since_ms_ = now;
  if (now - ready_since_ms_ < kSettleMs) return;
  timer_.stop();
  capture();
}

void ScreenshotTaker::capture() {
  const QPixmap pixmap = window_.grab();
  if (pixmap.isNull() || !pixmap.save(path_, "PNG")) {
    emit finished(false, tr("could not write %1").arg(path_));
    return;
  }
  emit finished(true, path_);
}

}  // namespace kiln::gui
