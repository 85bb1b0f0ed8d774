// Issue 13's dashboard views as `kiln-dash --screenshot` writes them, into
// KILN_SCREENSHOT_DIR: an in-process daemon with the demo lab, chips in
// several lifecycle states (set as a person would), a run holding r01 and a
// second one queued behind it, two schedules. The lab in the lifecycle
// colouring, the runs view with the queued run's reason and the schedule
// view are taken by the kiln-dash binary; the lab filtered by state and the
// schedule view with the fixture's schedules by the widgets themselves.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTableWidget>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gui/dashboard.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/main_window.hpp"
#include "gui/widgets/schedules_view.hpp"
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

// Long enough to hold r01 while the pictures are taken (aborted after).
const char* kHold = R"(
plan: hold-r01
targets: {racks: [r01]}
sample_hz: 2
steps:
  - name: soak
    pattern: idle
    duration: 3000s
)";

const char* kBehind = R"(
plan: behind-r01
targets: {racks: [r01]}
steps:
  - name: soak
    pattern: idle
    duration: 10s
)";

class Issue13Screenshots : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_.start(read_source("device/labs/demo.yaml"));
    fixture_.wait_for_racks(2);
  }
  void set_state(const std::string& serial, const std::string& state) {
    kiln::v1::Envelope set;
    set.mutable_set_chip_state()->set_serial(serial);
    set.mutable_set_chip_state()->set_state(state);
    set.mutable_set_chip_state()->set_reason("screenshot of the lifecycle colouring");
    auto reply = fixture_.client()->call(set);
    ASSERT_TRUE(reply) << reply.error().message;
    ASSERT_TRUE(reply->has_query_reply()) << reply->error_reply().message();
  }
  // Runs kiln-dash --screenshot against the fixture's daemon.
  void dash(const QStringList& view_args, const QString& out) {
    const QString token = shot("issue13-token");
    {
      QFile f(token);
      ASSERT_TRUE(f.open(QIODevice::WriteOnly));
      f.write(QByteArray::fromStdString(fixture_.credential() + "\n"));
      f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }
    QFile::remove(out);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.start(KILN_DASH_BINARY, QStringList{"--daemon", QStringLiteral("127.0.0.1:%1").arg(fixture_.port()),
                                          "--token-file", token, "--screenshot", out, "--size", "1280x720"} +
                                  view_args);
    ASSERT_TRUE(p.waitForFinished(90'000));
    EXPECT_EQ(p.exitCode(), 0) << p.readAllStandardError().toStdString();
    EXPECT_EQ(QImage(out).width(), 1280) << out.toStdString();
    QFile::remove(token);
  }
  kiln::testing::LabFixture fixture_;
};

TEST_F(Issue13Screenshots, LifecycleLabQueuedRunAndScheduleViews) {
  for (const char* s : {"R01-00", "R01-03", "R01-04", "R01-05", "TRN-0200", "TRN-0201", "TRN-0203"})
    set_state(s, "healthy");
  set_state("R01-01", "suspect");
  set_state("TRN-0202", "suspect");
  set_state("R01-02", "quarantined");
  set_state("TRN-0205", "quarantined");
  set_state("TRN-0206", "rma");
  set_state("TRN-0207", "retired");
  set_state("R01-07", "maintenance");
  auto on_r01 = [](const char* plan) {
    kiln::v1::SubmitRun request;
    request.set_plan_text(plan);
    request.set_plan_path("plan.yaml");
    request.add_racks("r01");
    return request;
  };
  const std::uint64_t holding = fixture_.submit(on_r01(kHold));
  const std::uint64_t behind = fixture_.submit(on_r01(kBehind));
  // The daemon says why the second waits.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto runs = nlohmann::json::parse(fixture_.query(kiln::v1::Query::RUNS));
        for (const auto& r : runs["runs"]) {
          if (r["id"] == behind && r.value("status", "") == "queued" && r.contains("waiting")) return true;
        }
        return false;
      },
      20'000))
      << "run " << behind << " never said why it waits";

  dash({"--view", "lab", "--colour", "5"}, shot("dashboard-lab-lifecycle.png"));
  dash({"--view", "runs"}, shot("dashboard-runs-queued.png"));
  // Two schedules in the daemon (one disabled): the schedule view as the daemon answers it.
  for (const char* name : {"nightly", "hourly-smoke"}) {
    kiln::v1::Envelope add;
    auto* request = add.mutable_schedule();
    request->set_action(kiln::v1::ScheduleRequest::ADD);
    request->set_name(name);
    request->set_plan_text(std::string(name) == "nightly" ? kHold : kBehind);
    request->set_plan_path(std::string(name) == "nightly" ? "testplans/hold-r01.yaml" : "testplans/behind-r01.yaml");
    request->set_cron(std::string(name) == "nightly" ? "30 2 * * *" : "0 * * * *");
    request->set_time_zone(std::string(name) == "nightly" ? "Europe/Berlin" : "UTC");
    request->add_racks("r01");
    auto reply = fixture_.client()->call(add);
    ASSERT_TRUE(reply) << reply.error().message;
    ASSERT_TRUE(reply->has_query_reply()) << reply->error_reply().message();
  }
  kiln::v1::Envelope disable;
  disable.mutable_schedule()->set_action(kiln::v1::ScheduleRequest::DISABLE);
  disable.mutable_schedule()->set_name("hourly-smoke");
  ASSERT_TRUE(fixture_.client()->call(disable));
  dash({"--view", "schedules"}, shot("dashboard-schedules-daemon.png"));

  // The state filter (no command-line flag: the window itself, as the binary draws it).
  {
    Dashboard dashboard;
    LinkConfig config;
    config.endpoint = Endpoint{"127.0.0.1", fixture_.port()};
    config.credential = fixture_.credential();
    dashboard.connect_to(config);
    MainWindow window(dashboard);
    window.resize(1280, 720);
    window.show();
    window.lab_page().set_mode_index(static_cast<int>(ColourMode::lifecycle));
    StateSet out_of_service = StateSet::none();
    for (const Lifecycle s : {Lifecycle::suspect, Lifecycle::quarantined, Lifecycle::rma}) out_of_service.set(s, true);
    window.lab_page().set_state_filter(out_of_service);
    ASSERT_TRUE(wait_until(
        [&] { return dashboard.lab().lifecycle().loaded() && window.lab_page().view().cells_shown() == 5; }, 20'000))
        << window.lab_page().view().cells_shown() << " cells shown";
    ASSERT_TRUE(window.grab().save(shot("dashboard-lab-lifecycle-filter.png"), "PNG"));
  }

  for (const std::uint64_t run : {behind, holding}) {
    kiln::v1::Envelope abort;
    abort.mutable_abort_run()->set_run_id(run);
    abort.mutable_abort_run()->set_reason("screenshots taken");
    (void)fixture_.client()->call(abort);
  }
  fixture_.wait_for_run(holding);
}

TEST(Issue13ScheduleScreenshot, TheScheduleViewWithTheFixturesSchedules) {
  Dashboard dashboard;
  kiln::v1::LiveUpdate u;
  auto* running = u.add_runs();
  running->set_run_id(12);
  running->set_state(kiln::v1::LIVE_RUN_RUNNING);
  running->set_phase(2);
  running->set_phases(3);
  auto* queued = u.add_runs();
  queued->set_run_id(14);
  queued->set_state(kiln::v1::LIVE_RUN_QUEUED);
  queued->set_queue_position(2);
  queued->set_waiting("waiting for r02: leased by run 13 until 06:10");
  dashboard.staging().push_update(u);
  dashboard.refresh();
  SchedulesView view(dashboard);
  view.resize(1280, 360);
  view.show();
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/tests/gui/fixtures/schedules.json");
  std::ostringstream body;
  body << in.rdbuf();
  dashboard.load_schedules(body.str());
  ASSERT_EQ(view.table().rowCount(), 4);
  const QString out = shot("dashboard-schedules.png");
  ASSERT_TRUE(view.grab().save(out, "PNG"));
}

}  // namespace
}  // namespace kiln::gui
