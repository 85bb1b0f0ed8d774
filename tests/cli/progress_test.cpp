// The progress line of `kiln run submit --wait` and `kiln lab`, from the
// typed RunProgress: the same line the JSON `progress` object gave.
#include "cli/progress.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/pace.hpp"

namespace kiln::cli {
namespace {

kiln::v1::RunProgress run(kiln::v1::RunStatus status) {
  kiln::v1::RunProgress p;
  p.set_run_id(3);
  p.set_plan("smoke");
  p.set_status(status);
  return p;
}

TEST(ProgressLine, AStoredRunShowsItsStatus) {
  EXPECT_EQ(progress_line(run(kiln::v1::RUN_COMPLETED)), "run 3 smoke  completed");
  EXPECT_TRUE(run_finished(run(kiln::v1::RUN_COMPLETED)));
  EXPECT_TRUE(run_finished(run(kiln::v1::RUN_ERROR)));
  EXPECT_FALSE(run_finished(run(kiln::v1::RUN_RUNNING)));
}

TEST(ProgressLine, QueuedShowsThePosition) {
  auto p = run(kiln::v1::RUN_QUEUED);
  p.set_live(true);
  p.set_state(kiln::v1::LIVE_RUN_QUEUED);
  p.set_queue_position(2);
  EXPECT_EQ(progress_line(p), "run 3 smoke  queued (position 2)");
}

TEST(ProgressLine, AWaitingRunSaysWhy) {
  auto p = run(kiln::v1::RUN_QUEUED);
  p.set_live(true);
  p.set_state(kiln::v1::LIVE_RUN_QUEUED);
  p.set_queue_position(1);
  p.set_waiting("waiting for r02: leased by run 14 until 2026-12-02 06:10 UTC");
  EXPECT_EQ(progress_line(p),
            "run 3 smoke  queued (position 1): waiting for r02: leased by run 14 until 2026-12-02 06:10 UTC");
}

TEST(ProgressLine, RunningShowsPhaseStepBarTimesAndFailures) {
  auto p = run(kiln::v1::RUN_RUNNING);
  p.set_live(true);
  p.set_state(kiln::v1::LIVE_RUN_RUNNING);
  p.set_phase(1);
  p.set_phases(2);
  p.set_step("gemm-bf16");
  p.set_elapsed_s(27);
  p.set_total_s(60);
  EXPECT_EQ(progress_line(p), "run 3 smoke  phase 1/2 gemm-bf16    [#########-----------] 27s/1m  no failures so far");
  p.add_failing("TRN-0205");
  p.add_failing("TRN-0207");
  p.add_lost_racks("r03");
  EXPECT_EQ(progress_line(p),
            "run 3 smoke  phase 1/2 gemm-bf16    [#########-----------] 27s/1m  failing: TRN-0205, TRN-0207  lost "
            "racks: r03");
  EXPECT_FALSE(run_finished(p));
  p.add_over_limit("TRN-0201");
  EXPECT_NE(progress_line(p).find("failing: TRN-0205, TRN-0207  over a limit so far: TRN-0201"), std::string::npos)
      << progress_line(p);
}

// Achieved against requested time scale (cli/pace.hpp), on an injected clock.
TEST(PaceMeter, SaysWhenTheHostCouldNotKeepUp) {
  using namespace std::chrono_literals;
  const auto t0 = PaceMeter::Clock::time_point{} + 100s;
  PaceMeter pace(60);
  pace.observe(0, false, t0);  // queued: not counted
  EXPECT_EQ(pace.text(), "");
  pace.observe(0, true, t0);
  pace.observe(410, true, t0 + 10s);
  ASSERT_TRUE(pace.achieved());
  EXPECT_DOUBLE_EQ(*pace.achieved(), 41.0);
  EXPECT_TRUE(pace.behind());
  EXPECT_EQ(pace.text(), "time scale 60x requested, 41x achieved (behind)");

  PaceMeter keeping_up(60);
  keeping_up.observe(0, true, t0);
  keeping_up.observe(598, true, t0 + 10s);
  EXPECT_FALSE(keeping_up.behind());
  EXPECT_EQ(keeping_up.text(), "time scale 60x requested, 60x achieved");

  PaceMeter unpaced(0);
  unpaced.observe(0, true, t0);
  unpaced.observe(900, true, t0 + 2s);
  EXPECT_FALSE(unpaced.behind());
  EXPECT_EQ(unpaced.text(), "time scale unpaced, 450x achieved");
}

// An unpaced smoke run can go from queued to completed between two polls:
// it is timed from the last poll that saw it queued, and says its figure.
TEST(PaceMeter, ARunNeverSeenRunningIsTimedFromTheLastPollBeforeIt) {
  using namespace std::chrono_literals;
  const auto t0 = PaceMeter::Clock::time_point{} + 100s;
  PaceMeter pace(0);
  pace.observe(0, false, t0);
  pace.observe(0, false, t0 + 200ms);
  pace.finish(60, t0 + 500ms);
  ASSERT_TRUE(pace.achieved());
  EXPECT_DOUBLE_EQ(*pace.achieved(), 200.0);
  EXPECT_EQ(pace.text(), "time scale unpaced, 200x achieved");

  PaceMeter short_but_seen(0);  // seen running for 0.1 s: a finished run's figure stands
  short_but_seen.observe(0, true, t0);
  short_but_seen.observe(20, true, t0 + 50ms);
  EXPECT_FALSE(short_but_seen.achieved()) << "running, too short to say";
  short_but_seen.finish(60, t0 + 100ms);
  ASSERT_TRUE(short_but_seen.achieved());
  EXPECT_DOUBLE_EQ(*short_but_seen.achieved(), 600.0);
}

TEST(PaceMeter, TheReportCarriesTheFigures) {
  using namespace std::chrono_literals;
  const auto t0 = PaceMeter::Clock::time_point{} + 100s;
  PaceMeter pace(60);
  const std::string report = R"({"run": {"id": 1}, "chips": []})";
  EXPECT_EQ(*with_time_scale(report, pace), report) << "nothing measured, nothing added";
  pace.observe(0, true, t0);
  pace.observe(900, true, t0 + 20s);
  const auto json = nlohmann::json::parse(*with_time_scale(report, pace));
  const auto& t = json["run"]["time_scale"];
  EXPECT_EQ(t["requested"], 60.0);
  EXPECT_EQ(t["unpaced"], false);
  EXPECT_DOUBLE_EQ(t["achieved"].get<double>(), 45.0);
  EXPECT_DOUBLE_EQ(t["simulated_s"].get<double>(), 900.0);
  EXPECT_DOUBLE_EQ(t["wall_s"].get<double>(), 20.0);
  EXPECT_EQ(t["behind"], true);
  EXPECT_FALSE(with_time_scale("not json", pace));
}

}  // namespace
}  // namespace kiln::cli
