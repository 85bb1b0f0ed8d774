#pragma once
// Helpers for the dashboard's tests: synthetic live updates and waiting on
// the Qt event loop without blocking it.

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QThread>

#include <functional>
#include <string>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::gui::testing {

// Spins the event loop until `done` holds or `timeout_ms` passes.
inline bool wait_until(const std::function<bool()>& done, int timeout_ms) {
  QElapsedTimer timer;
  timer.start();
  while (!done()) {
    if (timer.elapsed() > timeout_ms) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QThread::msleep(5);
  }
  return true;
}

// The feed's verdict for the names tests write ("pass", "fail", …).
inline kiln::v1::LiveVerdict live_verdict_of(const std::string& verdict) {
  if (verdict == "pass") return kiln::v1::LIVE_VERDICT_PASS;
  if (verdict == "marginal") return kiln::v1::LIVE_VERDICT_MARGINAL;
  if (verdict == "inconclusive") return kiln::v1::LIVE_VERDICT_INCONCLUSIVE;
  if (verdict == "error") return kiln::v1::LIVE_VERDICT_ERROR;
  if (verdict == "fail") return kiln::v1::LIVE_VERDICT_FAIL;
  if (verdict == "running") return kiln::v1::LIVE_VERDICT_RUNNING;
  if (verdict == "over_limit") return kiln::v1::LIVE_VERDICT_OVER_LIMIT;
  return kiln::v1::LIVE_VERDICT_NONE;
}

struct FakeChip {
  std::string serial;
  std::string rack;
  unsigned slot = 0;
  std::string verdict = "running";
  double temperature_c = 60;
  double power_w = 300;
  double tflops = 500;
  double sdc_errors = 0;
  std::int64_t wall_ms = 0;
};

// A LiveUpdate with the metric table [temperature_c, power_w, tflops, sdc_errors, throttled].
inline kiln::v1::LiveUpdate make_update(const std::vector<FakeChip>& chips, bool full, std::int64_t sent_ms) {
  kiln::v1::LiveUpdate u;
  u.set_full(full);
  u.set_sent_unix_ms(sent_ms);
  for (const char* name : {"temperature_c", "power_w", "tflops", "sdc_errors", "throttled"}) u.add_metric_names(name);
  for (const auto& c : chips) {
    auto* live = u.add_chips();
    live->set_serial(c.serial);
    live->set_rack(c.rack);
    live->set_slot(c.slot);
    live->set_sku("trn2-sim");
    live->set_run_id(1);
    live->set_step("gemm-bf16");
    live->set_verdict(live_verdict_of(c.verdict));
    live->set_wall_unix_ms(c.wall_ms);
    const double values[] = {c.temperature_c, c.power_w, c.tflops, c.sdc_errors, 0};
    for (unsigned i = 0; i < 5; ++i) {
      live->add_metric_index(i);
      live->add_metric_value(values[i]);
    }
    (*live->mutable_peaks())["tflops.bf16"] = 667;
  }
  return u;
}

}  // namespace kiln::gui::testing
