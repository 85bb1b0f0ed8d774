// Issue 13's dashboard views, offscreen: the lab coloured and filtered by
// lifecycle state, the runs view's queued runs with why they wait, the
// schedule view (and a daemon without schedules), alarms acknowledged by
// another dashboard.

#include <QImage>
#include <QLabel>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "gui/dashboard.hpp"
#include "gui/widgets/alarms_view.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/runs_model.hpp"
#include "gui/widgets/schedules_view.hpp"
#include "gui/widgets/tile_style.hpp"
#include "tests/gui/gui_test_support.hpp"

namespace kiln::gui {
namespace {

using testing::FakeChip;
using testing::make_update;

const char* kChips = R"({"chips": [
  {"serial": "A-0", "state": "healthy"}, {"serial": "A-1", "state": "quarantined"},
  {"serial": "B-0", "state": "suspect"}, {"serial": "B-1", "state": "maintenance"}]})";

void feed_lab(Dashboard& dashboard) {
  const auto now = Dashboard::local_now_ms();
  std::vector<FakeChip> chips{{"A-0", "r01", 0, "pass"},
                              {"A-1", "r01", 1, "fail"},
                              {"B-0", "r02", 0, "running"},
                              {"B-1", "r02", 1, "pass"},
                              {"C-0", "r02", 2, "pass"}};
  for (auto& c : chips) c.wall_ms = now;
  auto update = make_update(chips, true, now);
  for (const char* name : {"r01", "r02"}) {
    auto* r = update.add_racks();
    r->set_rack(name);
    r->set_connected(true);
  }
  dashboard.staging().push_update(update);
  dashboard.refresh();
}

QColor centre(QWidget& w, const QRect& r) {
  const QImage image = w.grab().toImage();
  return image.pixelColor(QPointF(r.adjusted(0, 0, 0, -20).center()).toPoint() * image.devicePixelRatio());
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/tests/gui/fixtures/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LabLifecycle, TilesAreColouredByLifecycleStateAndAChipTheDaemonDidNotListIsGrey) {
  Dashboard dashboard;
  feed_lab(dashboard);
  dashboard.load_lifecycle_json(kChips);
  LabView view(dashboard);
  view.resize(900, 500);
  view.set_mode(ColourMode::lifecycle);
  view.show();
  EXPECT_EQ(centre(view, view.tile_rect("A-0")), lifecycle_colour(Lifecycle::healthy));
  EXPECT_EQ(centre(view, view.tile_rect("A-1")), lifecycle_colour(Lifecycle::quarantined));
  EXPECT_EQ(centre(view, view.tile_rect("B-0")), lifecycle_colour(Lifecycle::suspect));
  EXPECT_EQ(centre(view, view.tile_rect("B-1")), lifecycle_colour(Lifecycle::maintenance));
  EXPECT_EQ(centre(view, view.tile_rect("C-0")), lifecycle_colour(std::nullopt));
  const LabState& lab = dashboard.lab();
  EXPECT_EQ(tile_look(lab, *lab.find("A-1"), ColourMode::lifecycle, Dashboard::local_now_ms()).value,
            QStringLiteral("quarantined"));
  EXPECT_TRUE(tile_look(lab, *lab.find("B-0"), ColourMode::lifecycle, Dashboard::local_now_ms())
                  .value.contains(QStringLiteral("running")));
  EXPECT_TRUE(view.tooltip_for(*lab.find("A-1")).contains(QStringLiteral("lifecycle: <b>quarantined</b>")));
}

TEST(LabLifecycle, TheFilterKeepsOnlyChipsInTheChosenStatesAndFollowsARefresh) {
  Dashboard dashboard;
  feed_lab(dashboard);
  dashboard.load_lifecycle_json(kChips);
  LabPage page(dashboard);
  page.resize(1000, 600);
  page.show();
  LabView& view = page.view();
  EXPECT_EQ(view.cells_shown(), 5u);
  StateSet bad = StateSet::none();
  bad.set(Lifecycle::quarantined, true);
  bad.set(Lifecycle::suspect, true);
  page.set_state_filter(bad);
  EXPECT_EQ(view.cells_shown(), 2u);
  EXPECT_FALSE(view.tile_rect("A-1").isNull());
  EXPECT_FALSE(view.tile_rect("B-0").isNull());
  EXPECT_TRUE(view.tile_rect("A-0").isNull());
  EXPECT_TRUE(view.tile_rect("C-0").isNull()) << "a chip without a known state is not in any chosen state";
  EXPECT_TRUE(page.states().text().contains(QStringLiteral("suspect")));
  // The daemon moved A-0 to suspect: the filter follows without being touched.
  dashboard.load_lifecycle_json(R"({"chips": [{"serial": "A-0", "state": "suspect"},
    {"serial": "A-1", "state": "quarantined"}, {"serial": "B-0", "state": "healthy"}]})");
  EXPECT_EQ(view.cells_shown(), 2u);
  EXPECT_FALSE(view.tile_rect("A-0").isNull());
  EXPECT_TRUE(view.tile_rect("B-0").isNull());
  page.set_state_filter(StateSet::all());
  EXPECT_EQ(view.cells_shown(), 5u);
  EXPECT_EQ(page.states().text(), QStringLiteral("States: all"));
}

TEST(RunsQueue, AQueuedRunShowsItsPositionAndWhyItWaits) {
  Dashboard dashboard;
  RunsModel model(dashboard);
  kiln::v1::LiveUpdate u;
  auto* run = u.add_runs();
  run->set_run_id(15);
  run->set_state(kiln::v1::LIVE_RUN_QUEUED);
  run->set_queue_position(2);
  run->set_waiting("waiting for r02: leased by run 14 until 06:10");
  dashboard.staging().push_update(u);
  dashboard.refresh();
  const int row = model.row_of(15);
  ASSERT_GE(row, 0);
  EXPECT_EQ(model.data(model.index(row, RunsModel::kStatus), Qt::DisplayRole).toString(),
            QStringLiteral("queued (#2)"));
  EXPECT_EQ(model.data(model.index(row, RunsModel::kProgress), Qt::DisplayRole).toString(),
            QStringLiteral("waiting for r02: leased by run 14 until 06:10"));
  EXPECT_EQ(model.data(model.index(row, RunsModel::kStatus), Qt::ToolTipRole).toString(),
            QStringLiteral("waiting for r02: leased by run 14 until 06:10"));
}

TEST(ScheduleView, ListsSchedulesWithNextFireAndTheLastRunsStatus) {
  Dashboard dashboard;
  ASSERT_TRUE(dashboard.runs().rows().empty());
  kiln::v1::LiveUpdate u;
  auto* run = u.add_runs();
  run->set_run_id(12);
  run->set_state(kiln::v1::LIVE_RUN_RUNNING);
  run->set_phase(2);
  run->set_phases(3);
  dashboard.staging().push_update(u);
  dashboard.refresh();
  SchedulesView view(dashboard);
  dashboard.load_schedules(fixture("schedules.json"));
  QTableWidget& table = view.table();
  ASSERT_EQ(table.rowCount(), 4);
  EXPECT_EQ(table.item(0, SchedulesView::kName)->text(), QStringLiteral("nightly"));
  EXPECT_EQ(table.item(0, SchedulesView::kNext)->text(), QStringLiteral("2026-12-04 02:30 CET"));
  EXPECT_EQ(table.item(0, SchedulesView::kWhen)->text(), QStringLiteral("30 2 * * * (Europe/Berlin)"));
  EXPECT_EQ(table.item(0, SchedulesView::kResult)->text(), QStringLiteral("run 12: running (phase 2/3)"));
  EXPECT_EQ(table.item(1, SchedulesView::kNext)->text(), QStringLiteral("disabled"));
  EXPECT_TRUE(view.status_text().contains(QStringLiteral("4 schedules, 3 enabled")));
}

TEST(ScheduleView, ADaemonThatDoesNotAnswerSchedulesIsSaidQuietly) {
  Dashboard dashboard;
  SchedulesView view(dashboard);
  dashboard.load_schedules(Error{ErrorCode::unavailable, "invalid_argument: unknown query"});
  EXPECT_EQ(view.table().rowCount(), 0);
  EXPECT_TRUE(view.status_text().startsWith(QStringLiteral("schedules: not available from this daemon")))
      << view.status_text().toStdString();
}

TEST(AlarmsAcks, AnAcknowledgementFromAnotherDashboardShowsWhoAndClearsTheCount) {
  Dashboard dashboard;
  AlarmsView view(dashboard);
  kiln::v1::LiveUpdate u;
  auto* a = u.add_alarms();
  a->set_id(1);
  a->set_kind(kiln::v1::ALARM_AGENT_LOST);
  a->set_rack("r02");
  a->set_unix_ms(1000);
  a->set_updated_unix_ms(1000);
  dashboard.staging().push_update(u);
  dashboard.refresh();
  EXPECT_EQ(dashboard.alarms().unacknowledged(), 1u);
  a->set_acknowledged_by("alice");
  a->set_acknowledged_unix_ms(5000);
  dashboard.staging().push_update(u);
  dashboard.refresh();
  EXPECT_EQ(dashboard.alarms().unacknowledged(), 0u);
  auto* table = view.findChild<QTableWidget*>();
  ASSERT_NE(table, nullptr);
  EXPECT_TRUE(table->item(0, 4)->text().startsWith(QStringLiteral("alice"))) << table->item(0, 4)->text().toStdString();
}

}  // namespace
}  // namespace kiln::gui
