// Die and HBM temperature, throttling and the critical trip.

#include <cmath>

#include <gtest/gtest.h>

#include "device/sim/clock_governor.hpp"
#include "device/sim/thermal_model.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::big_gemm;
using test::chip_config;

Fault cooling_fault(double factor) {
  Fault f;
  f.kind = FaultKind::cooling;
  f.r_th_factor = factor;
  return f;
}

TEST(Thermal, SteadyStateUnderConstantGemmIsAmbientPlusPowerTimesR) {
  for (const Sku* sku : {&test::trn2(), &test::h100()}) {
    SCOPED_TRACE(sku->name);
    SimChip chip(chip_config(*sku));
    const double tau = chip.thermal().tau_s();
    test::run_for(chip, big_gemm(DType::fp8, false), 20 * tau);
    const auto t = chip.telemetry();
    const double expected = 25.0 + t.power_w.value() * sku->thermal_resistance_c_per_w;
    EXPECT_NEAR(t.temperature_c.value(), expected, 0.02 * expected);
    EXPECT_NEAR(t.temperature_c.value(), expected, 1e-3);  // exact integration: only e^-20 is left
    EXPECT_DOUBLE_EQ(t.power_w.value(), sku->tdp_w);       // fp8 at max clock and nominal voltage is TDP
    EXPECT_EQ(t.throttled, false);
    // HBM settles at its share of the die's rise, lagging below it.
    EXPECT_NEAR(t.hbm_temperature_c.value(), 25.0 + kHbmCoupling * (expected - 25.0), 0.05);
  }
}

TEST(Thermal, CoolingFollowsAnExponentialWithTauEqualToRC) {
  const Sku& sku = test::trn2();
  SimChip chip(chip_config(sku));
  const double tau = sku.thermal_resistance_c_per_w * sku.thermal_capacitance_j_per_c;
  EXPECT_DOUBLE_EQ(chip.thermal().tau_s(), tau);
  test::run_for(chip, big_gemm(DType::fp8, false), 20 * tau);
  const double hot = chip.telemetry().temperature_c.value();
  // Idle still dissipates idle_w: the die cools towards ambient + idle·R.
  const double floor = 25.0 + sku.idle_w * sku.thermal_resistance_c_per_w;
  const int slices = static_cast<int>(tau / 0.1);
  for (int i = 0; i < slices; ++i) chip.idle(Seconds{0.1});
  chip.idle(Seconds{tau - slices * 0.1});
  const double fraction = (hot - chip.telemetry().temperature_c.value()) / (hot - floor);
  EXPECT_NEAR(fraction, 1.0 - std::exp(-1.0), 1e-6);  // 63.2 % of the way at t = τ
  EXPECT_EQ(chip.telemetry().power_w, sku.idle_w);
  EXPECT_EQ(chip.telemetry().utilization, 0.0);
}

TEST(Thermal, ResultDoesNotDependOnHowTimeIsSliced) {
  SimChip fine(chip_config(test::trn2()));
  SimChip coarse(chip_config(test::trn2()));
  test::run_for(fine, big_gemm(DType::bf16, false), 30, 0.01);
  (void)coarse.run_gemm(big_gemm(DType::bf16, false), Seconds{30});
  EXPECT_NEAR(fine.telemetry().temperature_c.value(), coarse.telemetry().temperature_c.value(), 1e-9);
}

TEST(Thermal, CoolingFaultRaisesTheSteadyTemperatureAndThrottles) {
  SimChip healthy(chip_config(test::trn2()));
  SimChip hot(chip_config(test::trn2(), {cooling_fault(1.3)}));
  EXPECT_NEAR(hot.thermal().resistance_c_per_w(), 0.11 * 1.3, 1e-12);
  bool throttled = false;
  double min_clock = 1e9;
  double healthy_flops = 0, hot_flops = 0;
  for (int i = 0; i < 6000; ++i) {  // 600 s ≈ 20 τ
    healthy_flops += healthy.run_gemm(big_gemm(DType::fp8, false), Seconds{0.1}).flops;
    hot_flops += hot.run_gemm(big_gemm(DType::fp8, false), Seconds{0.1}).flops;
    throttled = throttled || hot.telemetry().throttled == true;
    min_clock = std::min(min_clock, hot.telemetry().clock_mhz.value());
  }
  EXPECT_GT(hot.telemetry().temperature_c.value(), healthy.telemetry().temperature_c.value() + 5);
  EXPECT_LE(hot.telemetry().temperature_c.value(), test::trn2().throttle_c + 1.0);  // held near the limit
  EXPECT_TRUE(throttled);
  EXPECT_LT(min_clock, test::trn2().max_clock_mhz);
  EXPECT_LT(hot_flops, healthy_flops);
  EXPECT_EQ(healthy.telemetry().throttled, false);
  EXPECT_FALSE(hot.hung());
}

TEST(Thermal, CriticalTemperatureHangsTheChipUntilTheNextRun) {
  SimChip chip(chip_config(test::trn2(), {cooling_fault(5.0)}));  // even fully throttled it overheats
  int slices = 0;
  while (!chip.hung() && slices < 20000) {
    (void)chip.run_gemm(big_gemm(DType::fp8, false), Seconds{0.1});
    ++slices;
  }
  ASSERT_TRUE(chip.hung());
  EXPECT_GE(chip.telemetry().temperature_c.value(), test::trn2().critical_c);
  const auto stalled = chip.run_gemm(big_gemm(), Seconds{0.1});
  EXPECT_EQ(stalled.flops, 0.0);
  EXPECT_EQ(stalled.gemms, 0.0);
  EXPECT_FALSE(stalled.tile);
  EXPECT_EQ(stalled.elapsed, Seconds{0.1});
  EXPECT_EQ(chip.telemetry().utilization, 0.0);
  EXPECT_EQ(chip.telemetry().power_w, test::trn2().idle_w);
  test::idle_for(chip, 300);
  chip.start_run(1);
  EXPECT_FALSE(chip.hung());
}

TEST(ClockGovernor, StepsDownAboveThrottleAndBackUpWithHysteresis) {
  const Sku& sku = test::trn2();  // throttle 90 °C, max 2400 MHz
  ClockGovernor governor(sku);
  EXPECT_EQ(governor.clock_mhz(), 2400);
  governor.update(91);
  EXPECT_TRUE(governor.throttled());
  EXPECT_DOUBLE_EQ(governor.clock_mhz(), 2400 * 0.85);
  governor.update(91);
  EXPECT_DOUBLE_EQ(governor.clock_mhz(), 2400 * 0.85 * 0.85);
  governor.update(87);  // inside the hysteresis band: hold
  EXPECT_EQ(governor.steps(), 2);
  governor.update(84);
  EXPECT_EQ(governor.steps(), 1);
  governor.update(84);
  EXPECT_FALSE(governor.throttled());
  EXPECT_EQ(governor.clock_mhz(), 2400);
  for (int i = 0; i < 50; ++i) governor.update(120);
  EXPECT_EQ(governor.steps(), kMaxThrottleSteps);
}

TEST(ThermalModel, ExactExponentialStep) {
  ThermalModel model(test::trn2(), 20.0);
  model.advance(100.0, Seconds{model.tau_s()});
  const double target = 20.0 + 100.0 * 0.11;
  EXPECT_NEAR(model.die_c(), target + (20.0 - target) * std::exp(-1.0), 1e-12);
  EXPECT_LT(model.hbm_c(), model.die_c());
  EXPECT_EQ(model.steady_state_c(100.0), target);
}

}  // namespace
}  // namespace kiln::device
