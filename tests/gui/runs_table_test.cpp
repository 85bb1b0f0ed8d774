#include "gui/model/runs_table.hpp"

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

TEST(RunsTable, ListsRunsNewestFirstAndMergesLiveProgress) {
  RunsTable table;
  auto changed = table.load_runs_json(R"({"runs": [
    {"id": 1, "plan": "smoke", "status": "completed", "racks": ["r01"], "submitted": "a"},
    {"id": 2, "plan": "standard", "status": "queued", "racks": ["r01", "r02"], "submitted": "b"}]})");
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  ASSERT_EQ(table.rows().size(), 2u);
  EXPECT_EQ(table.rows()[0].id, 2u);

  kiln::v1::RunLive live;
  live.set_run_id(2);
  live.set_state(kiln::v1::LIVE_RUN_RUNNING);
  live.set_phase(1);
  live.set_phases(3);
  live.set_elapsed_s(10);
  live.set_total_s(100);
  EXPECT_FALSE(table.apply(live, 0));  // known run: no need to re-read the list
  EXPECT_EQ(table.find(2)->status, "running");
  EXPECT_FALSE(table.find(2)->eta_s) << "no pace yet";
  live.set_elapsed_s(30);  // 20 simulated seconds in 2 wall seconds: 70 left take 7 s
  table.apply(live, 2000);
  ASSERT_TRUE(table.find(2)->eta_s);
  EXPECT_NEAR(*table.find(2)->eta_s, 7.0, 1e-9);
  EXPECT_DOUBLE_EQ(table.find(2)->fraction(), 0.3);

  // The store still says queued: the feed's fresher state is kept.
  (void)table.load_runs_json(R"({"runs": [{"id": 2, "plan": "standard", "status": "queued"}]})");
  EXPECT_EQ(table.find(2)->status, "running");

  live.set_state(kiln::v1::LIVE_RUN_ENDED);
  EXPECT_TRUE(table.apply(live, 3000)) << "an ended run asks for the list again";
  EXPECT_FALSE(table.find(2)->eta_s);
  kiln::v1::RunLive unknown;
  unknown.set_run_id(9);
  unknown.set_state(kiln::v1::LIVE_RUN_QUEUED);
  EXPECT_TRUE(table.apply(unknown, 0));
  EXPECT_FALSE(table.load_runs_json("[]"));
}

TEST(FormatSeconds, ReadsLikeAClock) {
  EXPECT_EQ(format_seconds(12.4), "12s");
  EXPECT_EQ(format_seconds(245), "4m 05s");
  EXPECT_EQ(format_seconds(3720), "1h 02m");
  EXPECT_EQ(format_seconds(-1), "–");
}

}  // namespace
}  // namespace kiln::gui

namespace kiln::gui {
namespace {

TEST(RunsTable, AQueuedRunSaysWhyItWaitsFromTheListAndFromTheFeed) {
  RunsTable table;
  ASSERT_TRUE(table.load_runs_json(R"({"runs": [
    {"id": 14, "plan": "smoke", "status": "queued", "racks": ["r02"],
     "waiting": "waiting for r02: leased by run 13 until 06:10"}]})"));
  EXPECT_EQ(table.find(14)->waiting, "waiting for r02: leased by run 13 until 06:10");
  kiln::v1::RunLive live;
  live.set_run_id(14);
  live.set_state(kiln::v1::LIVE_RUN_QUEUED);
  live.set_queue_position(2);
  live.set_waiting("waiting for r02: reserved by alice until 07:00 (rework)");
  table.apply(live, 0);
  EXPECT_EQ(table.find(14)->queue_position, 2u);
  EXPECT_EQ(table.find(14)->waiting, "waiting for r02: reserved by alice until 07:00 (rework)");
  live.set_state(kiln::v1::LIVE_RUN_RUNNING);
  live.set_waiting("");
  table.apply(live, 10);
  EXPECT_TRUE(table.find(14)->waiting.empty()) << "a running run waits for nothing";
  ASSERT_TRUE(table.load_runs_json(R"({"runs": [{"id": 14, "plan": "smoke", "status": "completed"}]})"));
  EXPECT_TRUE(table.find(14)->waiting.empty());
}

}  // namespace
}  // namespace kiln::gui
