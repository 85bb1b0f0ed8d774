// The schedule view's model from JSON fixtures in the shape of the daemon's
// SCHEDULES answer (docs/scheduling.md), joined with the runs list.
#include "gui/model/schedules_table.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/tests/gui/fixtures/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SchedulesTable, ReadsEveryFieldOfTheDaemonsAnswerWithNullsAsAbsent) {
  SchedulesTable table;
  auto changed = table.load_json(fixture("schedules.json"));
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_TRUE(*changed);
  ASSERT_EQ(table.rows().size(), 4u);
  const ScheduleRow& nightly = table.rows()[0];
  EXPECT_EQ(nightly.id, 1u);
  EXPECT_EQ(nightly.name, "nightly");
  EXPECT_EQ(nightly.plan, "nightly-burnin");
  EXPECT_EQ(nightly.cron, "30 2 * * *");
  EXPECT_EQ(nightly.time_zone, "Europe/Berlin");
  EXPECT_EQ(nightly.racks, (std::vector<std::string>{"r01", "r02"}));
  EXPECT_EQ(nightly.max_wall_s, 21600);
  EXPECT_FALSE(nightly.queue_timeout_s);
  EXPECT_TRUE(nightly.enabled);
  EXPECT_EQ(nightly.last_run, 12u);
  EXPECT_EQ(next_fire_text(nightly), "2026-12-04 02:30 CET") << "the schedule's own zone, as the daemon wrote it";

  const ScheduleRow* weekly = table.find("weekly-hbm");
  ASSERT_NE(weekly, nullptr);
  EXPECT_FALSE(weekly->enabled);
  EXPECT_EQ(weekly->sku, "trn2");
  EXPECT_EQ(weekly->queue_timeout_s, 3600);
  EXPECT_FALSE(weekly->max_wall_s);
  EXPECT_FALSE(weekly->last_run);
  EXPECT_EQ(next_fire_text(*weekly), "disabled");
  EXPECT_EQ(last_result_text(*weekly, RunsTable{}), "never fired");

  auto again = table.load_json(fixture("schedules.json"));
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "the same answer changes nothing";
}

TEST(SchedulesTable, TheLastResultIsTheLastRunsStatusFromTheRunsList) {
  SchedulesTable table;
  ASSERT_TRUE(table.load_json(fixture("schedules.json")));
  RunsTable runs;
  // Before the runs list names run 12: the daemon's own words.
  EXPECT_EQ(last_result_text(*table.find("nightly"), runs), "run 12 submitted");
  ASSERT_TRUE(runs.load_runs_json(R"({"runs": [
    {"id": 12, "plan": "nightly-burnin", "status": "aborted", "reason": "lease of r02 expired", "racks": ["r01"]},
    {"id": 14, "plan": "smoke", "status": "queued", "racks": ["r02"],
     "waiting": "waiting for r02: leased by run 13 until 06:10"}]})"));
  EXPECT_EQ(last_result_text(*table.find("nightly"), runs), "run 12: aborted (lease of r02 expired)");
  EXPECT_EQ(last_result_text(*table.find("queued-one"), runs),
            "run 14: queued — waiting for r02: leased by run 13 until 06:10");
  EXPECT_EQ(last_result_text(*table.find("smoke-hourly"), runs), "skipped: daemon was down")
      << "a fire that submitted no run says why";
}

TEST(SchedulesTable, ADaemonWithoutSchedulesIsSaidNotShownAsEmpty) {
  SchedulesTable table;
  ASSERT_TRUE(table.load_json(fixture("schedules.json")));
  table.set_unavailable("schedules: not available from this daemon (invalid_argument: unknown query)");
  EXPECT_TRUE(table.rows().empty());
  EXPECT_TRUE(table.loaded());
  EXPECT_NE(table.unavailable().find("not available"), std::string::npos);
  // A daemon that answers again clears it.
  auto back = table.load_json(R"({"schedules": []})");
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back);
  EXPECT_TRUE(table.unavailable().empty());
}

TEST(SchedulesTable, ADueFireThatWaitsSaysWhy) {
  SchedulesTable table;
  const char* body = R"json({"schedules": [{"id": 1, "name": "nightly", "enabled": true,
    "next_fire": "2026-12-04T01:30:00Z", "next_fire_local": "2026-12-04 02:30 CET",
    "waiting": "waiting for r02 to register (up to 10m)"}]})json";
  ASSERT_TRUE(table.load_json(body));
  EXPECT_EQ(next_fire_text(table.rows()[0]), "2026-12-04 02:30 CET — waiting for r02 to register (up to 10m)");
}

TEST(SchedulesTable, ABodyThatDoesNotParseIsAnErrorAndKeepsTheRows) {
  SchedulesTable table;
  ASSERT_TRUE(table.load_json(fixture("schedules.json")));
  EXPECT_FALSE(table.load_json("not json"));
  EXPECT_FALSE(table.load_json(R"({"runs": []})"));
  EXPECT_EQ(table.rows().size(), 4u);
  // Rows without a name are skipped; wrong types read as absent.
  auto odd = table.load_json(R"({"schedules": [{"id": 9}, {"name": "x", "racks": "r01", "last_run": "12"}]})");
  ASSERT_TRUE(odd);
  ASSERT_EQ(table.rows().size(), 1u);
  EXPECT_TRUE(table.rows()[0].racks.empty());
  EXPECT_FALSE(table.rows()[0].last_run);
}

}  // namespace
}  // namespace kiln::gui
