// The dashboard end to end: an in-process daemon with the demo lab's
// simulated agents, the real window connected to it, a smoke run, and the
// lab, chip and run views captured to PNG (as `kiln-dash --screenshot` does)
// into KILN_SCREENSHOT_DIR. The kiln-dash binary itself is run once too.

#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QSignalSpy>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "gui/app/screenshot.hpp"
#include "gui/dashboard.hpp"
#include "gui/widgets/chip_view.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/main_window.hpp"
#include "gui/widgets/metric_chart.hpp"
#include "gui/widgets/runs_view.hpp"
#include "gui/widgets/submit_dialog.hpp"
#include "gui/widgets/tile_style.hpp"
#include "schema/enums.hpp"
#include "tests/gui/gui_test_support.hpp"
#include "tests/integration/lab_fixture.hpp"

namespace kiln::gui {
namespace {

using testing::wait_until;

std::string read_source(const std::string& path) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/" + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

QString shot(const QString& name) {
  QDir().mkpath(KILN_SCREENSHOT_DIR);
  return QStringLiteral(KILN_SCREENSHOT_DIR) + "/" + name;
}

// Runs the capture the way `kiln-dash --screenshot` does; true when the PNG was written.
bool capture(Dashboard& dashboard, MainWindow& window, const QString& view, const QString& path) {
  auto parsed = parse_view(view);
  if (!parsed) return false;
  ScreenshotTaker taker(dashboard, window, *parsed, path, 60);
  QSignalSpy done(&taker, &ScreenshotTaker::finished);
  taker.start();
  if (!wait_until([&] { return done.count() > 0; }, 65'000)) return false;
  EXPECT_TRUE(done.front().at(0).toBool()) << done.front().at(1).toString().toStdString();
  return done.front().at(0).toBool() && QFile::exists(path);
}

class DashboardE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.start(read_source("device/labs/demo.yaml"));
    fixture_.wait_for_racks(2);
    LinkConfig config;
    config.endpoint = Endpoint{"127.0.0.1", fixture_.port()};
    config.credential = fixture_.credential();
    dashboard_.connect_to(config);
    window_.resize(1280, 800);
    window_.show();
  }
  kiln::testing::LabFixture fixture_;
  Dashboard dashboard_;
  MainWindow window_{dashboard_};
};

TEST_F(DashboardE2E, WatchesASmokeRunAndCapturesLabChipAndRunViews) {
  ASSERT_TRUE(wait_until([&] { return dashboard_.lab().chips().size() == 16; }, 15'000)) << "no live lab";
  const std::uint64_t run = fixture_.submit(read_source("testplans/smoke.yaml"), 1);
  ASSERT_TRUE(wait_until(
      [&] {
        const ChipState* c = dashboard_.lab().find("TRN-0205");
        return c && c->run_id == run && c->t_s > 10;
      },
      30'000))
      << "TRN-0205 never got 10 s into the run";

  // Mid-run: the lab coloured by temperature, and the faulty chip's charts.
  window_.lab_page().set_mode_index(1);
  EXPECT_TRUE(capture(dashboard_, window_, "lab", shot("dashboard-lab-temperature.png")));
  window_.lab_page().set_mode_index(0);
  ASSERT_TRUE(capture(dashboard_, window_, "chip:TRN-0205", shot("dashboard-chip.png")));
  const ChipSeries* series = window_.chip_view().series();
  ASSERT_NE(series, nullptr);
  EXPECT_EQ(series->run_id(), run);
  // The stored history comes as kilnd's roll-ups (issue 12), live samples after them.
  const ChipRollups* rollups = window_.chip_view().rollups();
  ASSERT_NE(rollups, nullptr) << "kilnd answers ROLLUPS";
  ASSERT_NE(rollups->series("temperature_c"), nullptr);
  EXPECT_GT(rollups->values_in(0, 1e9), 50u) << "stored history";
  EXPECT_GT(window_.chip_view().charts().front()->points_shown(), 0u);

  // The end: final verdicts in the lab, the matrix in the runs view, the alarm.
  fixture_.wait_for_run(run);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto* bad = dashboard_.lab().find("TRN-0205");
        const auto* good = dashboard_.lab().find("R01-00");
        return bad->verdict == "fail" && good->verdict == "pass";
      },
      15'000));
  ASSERT_TRUE(wait_until(
      [&] { return dashboard_.runs().find(run) && dashboard_.runs().find(run)->status == "completed"; }, 10'000));
  int failure_alarms = 0;
  std::string listed;
  for (const auto& e : dashboard_.alarms().entries()) {
    failure_alarms += e.alarm.kind() == kiln::v1::ALARM_FAILURE && e.alarm.serial() == "TRN-0205" ? 1 : 0;
    listed += "\n  " + std::to_string(e.alarm.id()) + " " + std::string(wire::to_string(e.alarm.kind())) + ": " +
              e.alarm.message();
  }
  EXPECT_EQ(failure_alarms, 1) << "one failing chip, one failure alarm; got" << listed;

  ASSERT_TRUE(capture(dashboard_, window_, "run:" + QString::number(run), shot("dashboard-run.png")));
  EXPECT_EQ(window_.runs_view().selected_run(), run);
  ASSERT_TRUE(capture(dashboard_, window_, "lab", shot("dashboard-lab.png")));
  const QImage lab(shot("dashboard-lab.png"));
  EXPECT_GE(lab.width(), 1280);
  // TRN-0205's tile is red in the captured window.
  LabView& view = window_.lab_page().view();
  const QRect tile = view.tile_rect("TRN-0205");
  ASSERT_FALSE(tile.isNull());
  const QPoint in_window = view.mapTo(&window_, QPoint(tile.right() - 6, tile.center().y()));
  EXPECT_EQ(lab.pixelColor(in_window * lab.devicePixelRatio()), verdict_colour("fail"));
}

TEST_F(DashboardE2E, TheKilnDashBinaryWritesAScreenshot) {
  ASSERT_TRUE(wait_until([&] { return dashboard_.lab().chips().size() == 16; }, 15'000));
  const QString token = shot("token");
  {
    QFile f(token);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString(fixture_.credential() + "\n"));
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
  }
  const QString out = shot("kiln-dash-lab.png");
  QFile::remove(out);
  QProcess dash;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  dash.setProcessEnvironment(env);
  dash.start(KILN_DASH_BINARY, {"--daemon", QStringLiteral("127.0.0.1:%1").arg(fixture_.port()), "--token-file", token,
                                "--screenshot", out, "--view", "lab", "--size", "1024x640"});
  ASSERT_TRUE(dash.waitForFinished(60'000));
  EXPECT_EQ(dash.exitCode(), 0) << dash.readAllStandardError().toStdString();
  const QImage image(out);
  EXPECT_EQ(image.width(), 1024);
  QFile::remove(token);

  // A view that can never be ready fails with the reason, not a blank picture.
  QProcess missing;
  missing.setProcessEnvironment(env);
  missing.start(KILN_DASH_BINARY, {"--daemon", QStringLiteral("127.0.0.1:%1").arg(fixture_.port()), "--token-file",
                                   token, "--screenshot", out, "--view", "lab"});
  ASSERT_TRUE(missing.waitForFinished(30'000));
  EXPECT_NE(missing.exitCode(), 0) << "a missing token file must fail";
}

TEST_F(DashboardE2E, SubmitDialogValidatesThroughTheDaemonAndSubmits) {
  ASSERT_TRUE(wait_until([&] { return dashboard_.lab().chips().size() == 16; }, 15'000));
  const QString bad = shot("bad-plan.yaml");
  {
    QFile f(bad);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("plan: broken\nsteps:\n  - name: g\n    pattern: gemm\n    duration: 5s\n    bogus_key: 1\n");
  }
  SubmitDialog dialog(dashboard_);
  QSignalSpy checked(&dialog, &SubmitDialog::checked);
  ASSERT_TRUE(dialog.load_file(bad));
  ASSERT_TRUE(wait_until([&] { return checked.count() > 0; }, 10'000));
  EXPECT_GE(dialog.diagnostics_shown(), 1) << dialog.verdict_text().toStdString();
  EXPECT_TRUE(dialog.verdict_text().contains("error")) << dialog.verdict_text().toStdString();

  QSignalSpy submitted(&dialog, &SubmitDialog::submitted);
  ASSERT_TRUE(dialog.load_file(QStringLiteral(KILN_SOURCE_DIR "/testplans/smoke.yaml")));
  ASSERT_TRUE(wait_until([&] { return checked.count() > 1; }, 10'000));
  EXPECT_EQ(dialog.diagnostics_shown(), 0);
  EXPECT_EQ(dialog.verdict_text(), "The plan is valid.");
  dialog.submit();
  ASSERT_TRUE(wait_until([&] { return submitted.count() > 0; }, 10'000)) << dialog.verdict_text().toStdString();
  const auto run = submitted.front().front().toULongLong();
  EXPECT_GT(run, 0u);
  fixture_.wait_for_run(run);
  QFile::remove(bad);
}

}  // namespace
}  // namespace kiln::gui
