#include "gui/model/chip_series.hpp"

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

kiln::v1::PlanStep* add_step(kiln::v1::RunPlan& plan, std::uint32_t index, std::uint32_t phase, const char* name,
                             const char* pattern, double duration_s) {
  auto* s = plan.add_steps();
  s->set_step_index(index);
  s->set_phase_index(phase);
  s->set_name(name);
  s->set_pattern(pattern);
  s->set_duration_s(duration_s);
  return s;
}

// Two phases: gemm 45 s then cooldown 15 s (as smoke.yaml), with typed limits.
kiln::v1::RunPlan smoke_plan() {
  kiln::v1::RunPlan plan;
  plan.set_run_id(7);
  plan.set_plan("smoke");
  auto* gemm = add_step(plan, 0, 0, "gemm-bf16", "gemm", 45);
  auto* temperature = gemm->add_limits();
  temperature->set_metric("temperature_c");
  temperature->set_max(95);
  temperature->set_marginal_max(90);
  auto* tflops = gemm->add_limits();
  tflops->set_metric("tflops");
  tflops->set_min(0.5);
  tflops->set_of(kiln::v1::LIMIT_OF_PEAK);
  tflops->set_peak_key("tflops.bf16");
  auto* power = gemm->add_limits();
  power->set_metric("power_w");
  power->set_min(0.9);
  power->set_of(kiln::v1::LIMIT_OF_PEERS);
  auto* cooldown = add_step(plan, 1, 1, "cooldown", "idle", 15);
  auto* cool = cooldown->add_limits();
  cool->set_metric("temperature_c");
  cool->set_max(80);
  return plan;
}

void add_series(kiln::v1::TelemetrySeries& t, const char* serial, std::uint32_t step, const char* metric,
                std::vector<std::pair<double, double>> points) {
  auto* s = t.add_series();
  s->set_serial(serial);
  s->set_step_index(step);
  s->set_metric(metric);
  for (const auto& [x, y] : points) {
    s->add_t_s(x);
    s->add_values(y);
  }
}

TEST(RunLayout, PlacesStepsOnTheRunsTimeAxis) {
  const RunLayout layout = RunLayout::from_plan(smoke_plan());
  EXPECT_EQ(layout.run_id, 7u);
  EXPECT_EQ(layout.plan, "smoke");
  EXPECT_DOUBLE_EQ(layout.total_s, 60);
  EXPECT_DOUBLE_EQ(layout.x_of(1, 2.5), 47.5);
  EXPECT_EQ(layout.boundaries(), std::vector<double>{45});
}

TEST(ChipSeries, JoinsStoredSeriesAndLiveSamplesInTimeOrder) {
  ChipSeries series("TRN-0205", RunLayout::from_plan(smoke_plan()));
  kiln::v1::TelemetrySeries stored;
  add_series(stored, "TRN-0205", 1, "temperature_c", {{1.0, 70}});
  add_series(stored, "TRN-0205", 0, "temperature_c", {{0.5, 35}, {1.0, 40}});
  add_series(stored, "OTHER", 0, "temperature_c", {{1.0, 99}});
  add_series(stored, "TRN-0205", 9, "temperature_c", {{1.0, 1}});  // a step the run does not have
  EXPECT_EQ(series.load_series(stored), 3u);
  const auto* t = series.series("temperature_c");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->size(), 3u);
  EXPECT_DOUBLE_EQ((*t)[0].x, 0.5);
  EXPECT_DOUBLE_EQ((*t)[2].x, 46);
  EXPECT_DOUBLE_EQ((*t)[2].y, 70);
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

TEST(LimitBands, ScalePeakLimitsByTheFigureTheyNameAndSkipPeerLimits) {
  const kiln::v1::RunPlan plan = smoke_plan();
  const RunLayout layout = RunLayout::from_plan(plan);
  const auto bands = limit_bands(plan, layout, {{"tflops.bf16", 667}});
  ASSERT_EQ(bands.size(), 3u);
  EXPECT_EQ(bands[0].metric, "temperature_c");
  EXPECT_EQ(*bands[0].marginal_max, 90);
  EXPECT_FALSE(bands[0].min);
  EXPECT_EQ(bands[1].metric, "tflops");
  EXPECT_DOUBLE_EQ(*bands[1].min, 333.5);
  EXPECT_DOUBLE_EQ(bands[2].x0, 45);
  EXPECT_DOUBLE_EQ(bands[2].x1, 60);
  // A chip without the figure gets no band for that limit, rather than a wrong one.
  EXPECT_EQ(limit_bands(plan, layout, {}).size(), 2u);
}

}  // namespace
}  // namespace kiln::gui
