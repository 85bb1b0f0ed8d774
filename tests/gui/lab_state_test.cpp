#include "gui/model/lab_state.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "tests/gui/gui_test_support.hpp"

namespace kiln::gui {
namespace {

using testing::FakeChip;
using testing::make_update;

TEST(LabState, SnapshotPlacesChipsInRackColumnsBySlot) {
  LabState lab;
  auto u = make_update({{"B-1", "r02", 1}, {"A-0", "r01", 0}, {"B-0", "r02", 0}}, true, 1000);
  auto* rack = u.add_racks();
  rack->set_rack("r01");
  rack->set_connected(true);
  const auto changed = lab.apply(u, 1000);
  EXPECT_EQ(changed.size(), 3u);
  ASSERT_EQ(lab.racks().size(), 2u);
  EXPECT_EQ(lab.racks()[0].rack, "r01");
  EXPECT_TRUE(lab.racks()[0].connected);
  EXPECT_FALSE(lab.racks()[1].connected);  // never reported: not assumed connected
  ASSERT_EQ(lab.racks()[1].chips.size(), 2u);
  EXPECT_EQ(lab.chips()[lab.racks()[1].chips[0]].serial, "B-0");
  EXPECT_EQ(lab.chips()[lab.racks()[1].chips[1]].serial, "B-1");
  EXPECT_TRUE(lab.take_layout_changed());
  EXPECT_FALSE(lab.take_layout_changed());
}

TEST(LabState, MetricsMissingFromASampleKeepTheirValueOnlyWithinTheStep) {
  LabState lab;
  lab.apply(make_update({{"A-0", "r01", 0}}, true, 1000), 1000);
  kiln::v1::LiveUpdate delta;
  delta.add_metric_names("power_w");  // another index table: power is index 0 here
  auto* c = delta.add_chips();
  c->set_serial("A-0");
  c->set_rack("r01");
  c->set_run_id(1);
  c->add_metric_index(0);
  c->add_metric_value(123);
  lab.apply(delta, 1100);
  const ChipState* chip = lab.find("A-0");
  ASSERT_NE(chip, nullptr);
  EXPECT_DOUBLE_EQ(lab.value(*chip, "power_w"), 123);
  EXPECT_DOUBLE_EQ(lab.value(*chip, "temperature_c"), 60);  // same step: the latest value stands
  EXPECT_EQ(chip->peaks.at("tflops.bf16"), 667);            // a delta without peaks keeps them
  c->set_step_index(1);
  lab.apply(delta, 1200);
  EXPECT_TRUE(std::isnan(lab.value(*lab.find("A-0"), "temperature_c")))
      << "a new step: unavailable, never a stale or 0 figure";
  EXPECT_DOUBLE_EQ(lab.value(*lab.find("A-0"), "power_w"), 123);
}

TEST(LabState, ANewSnapshotAfterReconnectForgetsChipsThatAreGone) {
  LabState lab;
  lab.apply(make_update({{"A-0", "r01", 0}, {"A-1", "r01", 1}}, true, 1000), 1000);
  auto first = make_update({{"A-0", "r01", 0}}, true, 2000);
  first.set_more(true);
  lab.apply(first, 2000);
  lab.apply(make_update({{"C-0", "r03", 0}}, true, 2000), 2000);  // last frame of the same snapshot
  EXPECT_EQ(lab.chips().size(), 2u);
  EXPECT_EQ(lab.find("A-1"), nullptr);
  EXPECT_NE(lab.find("C-0"), nullptr);
}

TEST(LabState, AgeUsesTheDaemonClockNotTheLocalOne) {
  LabState lab;
  FakeChip chip{"A-0", "r01", 0};
  chip.wall_ms = 50'000;
  // The daemon's clock is 40 s ahead of ours: its 52 s is our 12 s.
  lab.apply(make_update({chip}, true, 52'000), 12'000);
  EXPECT_EQ(lab.age_ms(*lab.find("A-0"), 12'000), 2'000);
  EXPECT_EQ(lab.age_ms(*lab.find("A-0"), 20'000), 10'000);
}

TEST(LabState, FiguresSumErrorCountersAndScaleTflopsByPeak) {
  LabState lab;
  FakeChip chip{"A-0", "r01", 0};
  chip.tflops = 333.5;
  chip.sdc_errors = 4;
  lab.apply(make_update({chip}, true, 1), 1);
  EXPECT_TRUE(std::isnan(figures_of(lab, *lab.find("A-0")).tflops_pct)) << "the run's plan says the step's dtype";
  lab.set_tflops_peak_keys(1, {{0, "tflops.bf16"}});
  const ChipFigures f = figures_of(lab, *lab.find("A-0"));
  EXPECT_NEAR(f.tflops_pct, 50.0, 0.01);
  EXPECT_DOUBLE_EQ(f.errors, 4);
  EXPECT_FALSE(f.throttled);
}

TEST(LabState, CountersKeepTheRunsCountInAStepThatDoesNotReportThem) {
  LabState lab;
  FakeChip chip{"A-0", "r01", 0};
  chip.sdc_errors = 1873;
  lab.apply(make_update({chip}, true, 1), 1);
  // The next step's samples carry temperature only: no sdc_errors, no TFLOPS.
  kiln::v1::LiveUpdate next;
  next.add_metric_names("temperature_c");
  auto* live = next.add_chips();
  live->set_serial("A-0");
  live->set_rack("r01");
  live->set_run_id(1);
  live->set_step_index(1);
  live->add_metric_index(0);
  live->add_metric_value(70);
  lab.apply(next, 2);
  const ChipFigures f = figures_of(lab, *lab.find("A-0"));
  EXPECT_DOUBLE_EQ(f.errors, 1873) << "counters are cumulative in the run";
  EXPECT_TRUE(std::isnan(f.tflops)) << "a gauge of the earlier step is not a current figure";
  live->set_run_id(2);
  live->set_step_index(0);
  lab.apply(next, 3);
  EXPECT_TRUE(std::isnan(figures_of(lab, *lab.find("A-0")).errors)) << "a new run starts its own count";
}

}  // namespace
}  // namespace kiln::gui
