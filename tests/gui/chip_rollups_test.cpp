// Whole-run charts from stored roll-ups (issue 12): the min–max band and the
// average line, the zoom decision (raw values only where the busiest
// series fits), a pruned run that stays on roll-ups, and the TELEMETRY
// windows a zoomed span asks for.

#include "gui/model/chip_rollups.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

// gemm 3600 s then hbm 3600 s, one after the other.
kiln::v1::RunPlan two_hour_plan() {
  kiln::v1::RunPlan plan;
  plan.set_run_id(7);
  for (std::uint32_t i = 0; i < 2; ++i) {
    auto* s = plan.add_steps();
    s->set_step_index(i);
    s->set_phase_index(i);
    s->set_name(i == 0 ? "gemm" : "hbm");
    s->set_duration_s(3600);
  }
  return plan;
}

// One roll-up per `chunk_s` of a step at 10 Hz: min = avg - 1, max = avg + 1, avg = step * 10 + k.
void add_rollups(kiln::v1::TelemetryRollups& r, std::uint32_t step, const char* metric, double duration_s,
                 double chunk_s) {
  auto* s = r.add_series();
  s->set_serial("TRN-0001");
  s->set_step_index(step);
  s->set_metric(metric);
  for (double t = 0; t < duration_s; t += chunk_s) {
    const double avg = step * 10.0 + t / chunk_s;
    s->add_t_from_s(t);
    s->add_t_to_s(t + chunk_s - 0.1);
    s->add_count(static_cast<std::uint64_t>(std::llround(chunk_s * 10)));
    s->add_min(avg - 1);
    s->add_avg(avg);
    s->add_max(avg + 1);
  }
}

ChipRollups loaded(const kiln::v1::TelemetryRollups& r) {
  ChipRollups rollups("TRN-0001", RunLayout::from_plan(two_hour_plan()));
  rollups.load(r);
  return rollups;
}

TEST(ChipRollups, WholeRunChartIsTheMinMaxBandAroundTheAverageLine) {
  kiln::v1::TelemetryRollups r;
  add_rollups(r, 0, "temperature_c", 3600, 100);
  add_rollups(r, 1, "temperature_c", 3600, 100);
  const ChipRollups rollups = loaded(r);
  EXPECT_EQ(rollups.series("temperature_c")->size(), 72u);
  EXPECT_NEAR(rollups.end_x(), 7199.9, 1e-9);
  const ChartLine c = chart_line("temperature_c", &rollups, nullptr, std::nullopt, 0, 7200, 1500);
  ASSERT_EQ(c.line.size(), 72u);
  ASSERT_EQ(c.band_low.size(), 144u);  // each roll-up's span at its min
  ASSERT_EQ(c.band_high.size(), 144u);
  // The second step's roll-ups sit after the first step on the run's axis.
  EXPECT_DOUBLE_EQ(c.band_low[72].x, 3600);
  EXPECT_DOUBLE_EQ(c.band_low[72].y, 9);
  EXPECT_DOUBLE_EQ(c.band_high[72].y, 11);
  EXPECT_NEAR(c.line[36].x, 3600 + 49.95, 1e-9);  // the average at the middle of its span
  EXPECT_DOUBLE_EQ(c.line[36].y, 10);
}

TEST(ChipRollups, ManyRollupsAreMergedKeepingTheExtremes) {
  kiln::v1::TelemetryRollups r;
  add_rollups(r, 0, "power_w", 3600, 1);  // 3,600 roll-ups in the step
  const ChipRollups rollups = loaded(r);
  const ChartLine c = chart_line("power_w", &rollups, nullptr, std::nullopt, 0, 3600, 100);
  EXPECT_LE(c.line.size(), 50u);
  double lo = 1e9, hi = -1e9;
  for (const Point& p : c.band_low) lo = std::min(lo, p.y);
  for (const Point& p : c.band_high) hi = std::max(hi, p.y);
  EXPECT_DOUBLE_EQ(lo, -1);    // the first roll-up's min
  EXPECT_DOUBLE_EQ(hi, 3600);  // the last one's max (avg 3599 + 1)
}

TEST(ChipRollups, RollupsOfOnlyNanValuesAreNotDrawn) {
  kiln::v1::TelemetryRollups r;
  auto* s = r.add_series();
  s->set_serial("TRN-0001");
  s->set_metric("clock_mhz");
  s->add_t_from_s(0);
  s->add_t_to_s(10);
  s->add_count(0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s->add_min(nan);
  s->add_avg(nan);
  s->add_max(nan);
  const ChipRollups rollups = loaded(r);
  EXPECT_TRUE(chart_line("clock_mhz", &rollups, nullptr, std::nullopt, 0, 7200, 1500).line.empty());
}

TEST(ChipRollups, ZoomAsksForRawValuesOnlyWhenTheBusiestSeriesFits) {
  kiln::v1::TelemetryRollups r;
  add_rollups(r, 0, "temperature_c", 3600, 86);
  add_rollups(r, 1, "temperature_c", 3600, 86);
  const ChipRollups rollups = loaded(r);
  using Source = ZoomDecision::Source;
  // The whole run: roll-ups, whatever it holds.
  EXPECT_EQ(decide_zoom(rollups, 0, 7200, false).source, Source::rollups);
  // 590 s at 10 Hz = 5,900 values: raw fits.
  const ZoomDecision ten_minutes = decide_zoom(rollups, 1000, 1590, true);
  EXPECT_EQ(ten_minutes.source, Source::raw_window);
  EXPECT_NEAR(static_cast<double>(ten_minutes.values), 5900, 20);
  // An hour: 36,000 values, roll-ups still.
  const ZoomDecision hour = decide_zoom(rollups, 1000, 4600, true);
  EXPECT_EQ(hour.source, Source::rollups);
  EXPECT_GT(hour.values, ZoomDecision::kMaxRawValues);
}

TEST(ChipRollups, PrunedRunStaysOnRollupsWhenZoomedIn) {
  kiln::v1::TelemetryRollups r;
  add_rollups(r, 0, "temperature_c", 3600, 86);
  r.set_raw_pruned_unix_ms(1'800'000'000'000);
  const ChipRollups rollups = loaded(r);
  EXPECT_TRUE(rollups.raw_pruned());
  EXPECT_EQ(decide_zoom(rollups, 100, 160, true).source, ZoomDecision::Source::rollups_only);
}

TEST(ChipRollups, WindowsCoverTheVisibleSpanInEachStepsOwnTime) {
  const RunLayout layout = RunLayout::from_plan(two_hour_plan());
  const auto across = windows_for(layout, 3500, 3700);
  ASSERT_EQ(across.size(), 2u);
  EXPECT_EQ(across[0].step_index(), 0u);
  EXPECT_DOUBLE_EQ(across[0].from_t_s(), 3500);
  EXPECT_DOUBLE_EQ(across[0].to_t_s(), 3700);  // not cut at the planned end: late samples count
  EXPECT_EQ(across[1].step_index(), 1u);
  EXPECT_DOUBLE_EQ(across[1].from_t_s(), 0);
  EXPECT_DOUBLE_EQ(across[1].to_t_s(), 100);
  const auto inside = windows_for(layout, 100, 400);
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].step_index(), 0u);
}

TEST(ChipRollups, RawValuesAreDrawnWhereTheirFetchedSpanCoversTheView) {
  kiln::v1::TelemetryRollups r;
  add_rollups(r, 0, "temperature_c", 3600, 86);
  const ChipRollups rollups = loaded(r);
  ChipSeries raw("TRN-0001", RunLayout::from_plan(two_hour_plan()));
  kiln::v1::TelemetrySeries t;
  auto* s = t.add_series();
  s->set_serial("TRN-0001");
  s->set_metric("temperature_c");
  for (int i = 0; i < 600; ++i) {
    s->add_t_s(100 + i * 0.1);
    s->add_values(70 + i % 3);
  }
  raw.load_series(t);
  const auto span = std::make_optional(std::make_pair(100.0, 160.0));
  const ChartLine zoomed = chart_line("temperature_c", &rollups, &raw, span, 110, 150, 1500);
  EXPECT_TRUE(zoomed.band_high.empty());
  EXPECT_GE(zoomed.line.size(), 400u);
  // Panned past what was fetched: the band again until the new span arrives.
  const ChartLine panned = chart_line("temperature_c", &rollups, &raw, span, 150, 210, 1500);
  EXPECT_FALSE(panned.band_high.empty());
}

TEST(ChipRollups, LiveSamplesAfterTheLastRollupAreDrawnRaw) {
  kiln::v1::TelemetryRollups r;
  add_rollups(r, 0, "temperature_c", 600, 100);
  const ChipRollups rollups = loaded(r);
  ChipSeries live("TRN-0001", RunLayout::from_plan(two_hour_plan()));
  kiln::v1::TelemetrySeries t;
  auto* s = t.add_series();
  s->set_serial("TRN-0001");
  s->set_metric("temperature_c");
  for (double x : {50.0, 650.0, 651.0}) {  // one inside the roll-ups (not drawn twice), two after
    s->add_t_s(x);
    s->add_values(80);
  }
  live.load_series(t);
  const ChartLine c = chart_line("temperature_c", &rollups, &live, std::nullopt, 0, 7200, 1500);
  ASSERT_EQ(c.line.size(), 6u + 2u);
  EXPECT_DOUBLE_EQ(c.line.back().x, 651);
}

}  // namespace
}  // namespace kiln::gui
