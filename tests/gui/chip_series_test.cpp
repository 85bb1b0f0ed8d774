#include "gui/model/chip_series.hpp"

#include <gtest/gtest.h>

#include "testplans/loader.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::gui {
namespace {

// Two phases: gemm 45 s then cooldown 15 s (as smoke.yaml).
const char* kRunJson = R"({"id": 7, "plan": "smoke", "steps": [
  {"index": 0, "phase": 0, "repeat": 0, "name": "gemm-bf16", "pattern": "gemm", "duration_s": 45, "params": {}},
  {"index": 1, "phase": 1, "repeat": 0, "name": "cooldown", "pattern": "idle", "duration_s": 15, "params": {}}]})";

TEST(RunLayout, PlacesStepsOnTheRunsTimeAxis) {
  auto layout = RunLayout::from_run_json(kRunJson);
  ASSERT_TRUE(layout) << layout.error().message;
  EXPECT_EQ(layout->run_id, 7u);
  EXPECT_DOUBLE_EQ(layout->total_s, 60);
  EXPECT_DOUBLE_EQ(layout->x_of(1, 2.5), 47.5);
  EXPECT_EQ(layout->boundaries(), std::vector<double>{45});
  EXPECT_FALSE(RunLayout::from_run_json("{not json"));
}

TEST(ChipSeries, JoinsStoredCsvAndLiveSamplesInTimeOrder) {
  auto layout = RunLayout::from_run_json(kRunJson);
  ASSERT_TRUE(layout);
  ChipSeries series("TRN-0205", *layout);
  const std::string csv =
      "serial,step,t_s,time,metric,value\n"
      "TRN-0205,gemm-bf16,1.000,2026-01-01T00:00:00.000Z,temperature_c,40\n"
      "TRN-0205,gemm-bf16,0.500,2026-01-01T00:00:00.000Z,temperature_c,35\n"
      "TRN-0205,cooldown,1.000,2026-01-01T00:00:00.000Z,temperature_c,70\n"
      "OTHER,gemm-bf16,1.000,2026-01-01T00:00:00.000Z,temperature_c,99\n"
      "TRN-0205,gemm-bf16,bad,2026-01-01T00:00:00.000Z,temperature_c,1\n";
  EXPECT_EQ(series.load_csv(csv), 3u);
  const auto* t = series.series("temperature_c");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->size(), 3u);
  EXPECT_DOUBLE_EQ((*t)[0].x, 0.5);
  EXPECT_DOUBLE_EQ((*t)[2].x, 46);
  EXPECT_DOUBLE_EQ(series.last_x(), 46);
}

TEST(Decimate, KeepsSpikesAndStaysUnderTheBudget) {
  std::vector<Point> points;
  for (int i = 0; i < 100000; ++i) points.push_back({static_cast<double>(i), i == 61234 ? 1000.0 : 1.0});
  const auto shown = decimate(points, 0, 100000, 1000);
  EXPECT_LE(shown.size(), 1000u);
  bool spike = false;
  for (const auto& p : shown) spike = spike || p.y == 1000.0;
  EXPECT_TRUE(spike) << "a one-sample spike must survive decimation";
  EXPECT_EQ(decimate(points, 10, 20, 1000).size(), 13u);  // the span plus one point either side
}

TEST(LimitBands, ScalePeakLimitsByTheChipsSkuAndSkipPeerLimits) {
  plan::PatternRegistry registry;
  plan::register_builtin_patterns(registry);
  const char* plan_text = R"(plan: smoke
sample_hz: 10
steps:
  - name: gemm-bf16
    pattern: gemm
    duration: 45s
    params: {dtype: bf16}
    limits:
      temperature_c: {max: 95, marginal_max: 90}
      tflops: {min: 0.5, of: peak}
      power_w: {min: 0.9, of: peers}
  - name: cooldown
    pattern: idle
    duration: 15s
    limits: {temperature_c: {max: 80}}
)";
  auto loaded = plan::load_plan(plan_text, "smoke.yaml", registry);
  ASSERT_TRUE(loaded.plan) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics.front().to_string());
  auto layout = RunLayout::from_run_json(kRunJson);
  ASSERT_TRUE(layout);
  const auto bands = limit_bands(*loaded.plan, *layout, {{"tflops.bf16", 667}});
  ASSERT_EQ(bands.size(), 3u);
  EXPECT_EQ(bands[0].metric, "temperature_c");
  EXPECT_EQ(*bands[0].marginal_max, 90);
  EXPECT_EQ(bands[1].metric, "tflops");
  EXPECT_DOUBLE_EQ(*bands[1].min, 333.5);
  EXPECT_DOUBLE_EQ(bands[2].x0, 45);
  EXPECT_DOUBLE_EQ(bands[2].x1, 60);
}

}  // namespace
}  // namespace kiln::gui
