// Timed and counted faults: hang, link_down, hbm_ue, hbm_ce.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::big_gemm;
using test::chip_config;

Fault timed(FaultKind kind, double after_s, int link = 0) {
  Fault f;
  f.kind = kind;
  f.after = Seconds{after_s};
  f.link = link;
  return f;
}

TEST(SimFaults, HangStopsProgressAtItsTime) {
  SimChip chip(chip_config(test::trn2(), {timed(FaultKind::hang, 5.0)}));
  chip.start_run(1);
  for (int i = 0; i < 49; ++i) EXPECT_GT(chip.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1}).flops, 0.0);
  test::run_for(chip, big_gemm(DType::bf16, false), 0.2);
  EXPECT_TRUE(chip.hung());
  EXPECT_EQ(chip.run_gemm(big_gemm(), Seconds{0.1}).flops, 0.0);
  EXPECT_GT(chip.now(), Seconds{5.0});  // chip time still passes
  chip.start_run(2);                    // a new run: the fault fires again at 5 s
  EXPECT_FALSE(chip.hung());
}

TEST(SimFaults, LinkDownAtItsTime) {
  SimChip chip(chip_config(test::trn2(), {timed(FaultKind::link_down, 2.0, 1)}));
  test::idle_for(chip, 1.9);
  EXPECT_EQ(chip.telemetry().links[1].up, true);
  test::idle_for(chip, 0.2);
  EXPECT_EQ(chip.telemetry().links[1].up, false);
  EXPECT_EQ(chip.telemetry().links[0].up, true);
}

TEST(SimFaults, UncorrectableErrorAtItsTime) {
  SimChip chip(chip_config(test::trn2(), {timed(FaultKind::hbm_ue, 3.0)}));
  test::idle_for(chip, 2.9);
  EXPECT_EQ(chip.telemetry().hbm_ue, 0.0);
  test::idle_for(chip, 0.2);
  EXPECT_EQ(chip.telemetry().hbm_ue, 1.0);
  chip.start_run(1);
  test::idle_for(chip, 0.1);
  EXPECT_EQ(chip.telemetry().hbm_ue, 0.0);  // counters are per run
}

TEST(SimFaults, CorrectableErrorsArriveAtTheirRateWhateverTheSlicing) {
  Fault ce;
  ce.kind = FaultKind::hbm_ce;
  ce.rate_per_hour = 36000;  // 10 per second
  SimChip fine(chip_config(test::trn2(), {ce}));
  SimChip coarse(chip_config(test::trn2(), {ce}));
  test::idle_for(fine, 100, 0.1);
  test::idle_for(coarse, 100, 2.0);
  const double count = fine.telemetry().hbm_ce.value();
  EXPECT_NEAR(count, 1000, 5 * std::sqrt(1000.0));
  EXPECT_EQ(coarse.telemetry().hbm_ce, count);
  fine.start_run(9);
  EXPECT_EQ(fine.telemetry().hbm_ce, 0.0);
}

}  // namespace
}  // namespace kiln::device
