// Limits: metric → {min, max, marginal_min, marginal_max, of}.

#include <gtest/gtest.h>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

using testing::has_error;
using testing::load;
using testing::only_error;

// One gemm step with the given limits mapping on line 6, starting at column 13.
LoadResult load_limits(std::string_view limits) {
  return load("plan: t\nsteps:\n  - name: a\n    pattern: gemm\n    duration: 1s\n    limits: " + std::string(limits) +
              "\n");
}

TEST(LoaderLimits, AllFieldsRead) {
  const auto result = load_limits(
      "{tflops: {min: 0.85, marginal_min: 0.9, of: peers}, temperature_c: {max: 95, marginal_max: 90}, "
      "throttle_fraction: {max: 0.05, of: baseline}, power_w: {min: -1}}");
  ASSERT_TRUE(result.plan) << testing::all_messages(result);
  const auto& limits = result.plan->phases[0].steps[0].limits;
  ASSERT_EQ(limits.size(), 4u);
  EXPECT_EQ(limits[0].metric, "tflops");
  EXPECT_EQ(limits[0].min, 0.85);
  EXPECT_EQ(limits[0].marginal_min, 0.9);
  EXPECT_FALSE(limits[0].max);
  EXPECT_FALSE(limits[0].marginal_max);
  EXPECT_EQ(limits[0].of, LimitBase::peers);
  EXPECT_EQ(limits[0].mark.line, 6u);
  EXPECT_EQ(limits[0].mark.column, 14u);
  EXPECT_EQ(limits[1].metric, "temperature_c");
  EXPECT_EQ(limits[1].max, 95.0);
  EXPECT_EQ(limits[1].marginal_max, 90.0);
  EXPECT_EQ(limits[1].of, LimitBase::absolute);
  EXPECT_EQ(limits[2].of, LimitBase::baseline);
  EXPECT_EQ(limits[3].min, -1.0);  // absolute bounds may be negative
}

TEST(LoaderLimits, UnknownMetricListsTheKnownOnes) {
  EXPECT_TRUE(only_error(
      load_limits("{hbm_gbps: {min: 1}}"),
      "p.yaml:6:14: steps[0].limits: unknown metric 'hbm_gbps' for pattern 'gemm' (known: tflops, sdc_errors, "
      "temperature_c, hbm_temperature_c, power_w, clock_mhz, voltage_mv, utilization, throttled, "
      "hbm_ce, hbm_ue, link_crc_errors, throttle_fraction, link_down)"));
}

TEST(LoaderLimits, BadOf) {
  EXPECT_TRUE(only_error(load_limits("{tflops: {min: 0.8, of: spec}}"),
                         "p.yaml:6:37: steps[0].limits.tflops.of: expected peak, peers or baseline, got 'spec' "
                         "(leave `of` out for an absolute limit)"));
  EXPECT_TRUE(only_error(load_limits("{tflops: {min: 0.8, of: absolute}}"),
                         "p.yaml:6:37: steps[0].limits.tflops.of: expected peak, peers or baseline, got 'absolute' "
                         "(leave `of` out for an absolute limit)"));
}

TEST(LoaderLimits, MinGreaterThanMax) {
  EXPECT_TRUE(only_error(load_limits("{temperature_c: {min: 95, max: 90}}"),
                         "p.yaml:6:29: steps[0].limits.temperature_c: min (95) is greater than max (90)"));
}

TEST(LoaderLimits, MarginalBandMustLieInsideTheHardBounds) {
  EXPECT_TRUE(only_error(load_limits("{temperature_c: {max: 90, marginal_max: 95}}"),
                         "p.yaml:6:29: steps[0].limits.temperature_c: marginal_max (95) is greater than max (90)"));
  EXPECT_TRUE(only_error(load_limits("{tflops: {min: 0.9, marginal_min: 0.85, of: peak}}"),
                         "p.yaml:6:22: steps[0].limits.tflops: min (0.9) is greater than marginal_min (0.85)"));
  EXPECT_TRUE(only_error(load_limits("{tflops: {marginal_min: 5, marginal_max: 4}}"),
                         "p.yaml:6:22: steps[0].limits.tflops: marginal_min (5) is greater than marginal_max (4)"));
  // Equal is allowed: no marginal band on that side.
  EXPECT_TRUE(load_limits("{tflops: {min: 0.9, marginal_min: 0.9, of: peak}}").plan);
}

TEST(LoaderLimits, RelativeBoundsAreFractions) {
  const auto result = load_limits("{tflops: {min: 85, marginal_min: 0, of: peak}}");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result,
                        "p.yaml:6:28: steps[0].limits.tflops.min: with `of: peak` bounds are fractions in "
                        "(0, 10], got 85"));
  EXPECT_TRUE(has_error(result,
                        "p.yaml:6:46: steps[0].limits.tflops.marginal_min: with `of: peak` bounds are "
                        "fractions in (0, 10], got 0"));
  EXPECT_TRUE(load_limits("{tflops: {max: 10, of: peak}}").plan);
}

TEST(LoaderLimits, AtLeastOneBound) {
  EXPECT_TRUE(only_error(load_limits("{tflops: {of: peak}}"),
                         "p.yaml:6:22: steps[0].limits.tflops: needs at least one of min, max, marginal_min, "
                         "marginal_max"));
  EXPECT_TRUE(only_error(load_limits("{tflops: {}}"),
                         "p.yaml:6:22: steps[0].limits.tflops: needs at least one of min, max, marginal_min, "
                         "marginal_max"));
}

TEST(LoaderLimits, ShapeErrors) {
  const auto result = load_limits("{tflops: {maximum: 3}, sdc_errors: 0, temperature_c: {max: hot}}");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result,
                        "p.yaml:6:23: steps[0].limits.tflops: unknown key 'maximum' (expected one of: min, "
                        "marginal_min, marginal_max, max, of)"));
  EXPECT_TRUE(has_error(result,
                        "p.yaml:6:22: steps[0].limits.tflops: needs at least one of min, max, marginal_min, "
                        "marginal_max"));
  EXPECT_TRUE(has_error(result, "p.yaml:6:48: steps[0].limits.sdc_errors: expected a mapping, got a scalar"));
  EXPECT_TRUE(has_error(result, "p.yaml:6:72: steps[0].limits.temperature_c.max: expected a number, got 'hot'"));
  EXPECT_EQ(result.diagnostics.size(), 4u) << testing::all_messages(result);
  EXPECT_TRUE(only_error(load_limits("[tflops]"),
                         "p.yaml:6:13: steps[0].limits: expected a mapping such as {sdc_errors: {max: 0}}, got a "
                         "list"));
}

TEST(LoaderLimits, PatternMetricsDependOnThePattern) {
  const auto result = load(R"(plan: t
steps:
  - name: c
    pattern: collective
    duration: 1s
    limits: {busbw_gbps: {min: 0.8, of: peak}, link_crc_errors: {max: 0}, tflops: {min: 1}}
)");
  EXPECT_TRUE(only_error(
      result,
      "p.yaml:6:75: steps[0].limits: unknown metric 'tflops' for pattern 'collective' (known: busbw_gbps, "
      "algbw_gbps, link_crc_errors, link_gbps, data_errors, temperature_c, hbm_temperature_c, power_w, clock_mhz, "
      "voltage_mv, utilization, throttled, hbm_ce, hbm_ue, throttle_fraction, link_down)"));
}

}  // namespace
}  // namespace kiln::plan
