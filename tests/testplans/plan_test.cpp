#include "testplans/plan.hpp"

#include <gtest/gtest.h>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

// warm 10s, {hot 20s ∥ ring 30s}, cool 5s — twice.
Plan two_rounds() {
  const auto result = testing::load(R"(plan: t
steps:
  - {name: warm, pattern: idle, duration: 10s}
  - parallel:
      - {name: hot, pattern: gemm, duration: 20s}
      - {name: ring, pattern: collective, duration: 30s}
  - {name: cool, pattern: idle, duration: 5s}
repeat: 2
)");
  EXPECT_TRUE(result.plan) << testing::all_messages(result);
  return result.plan.value_or(Plan{});
}

TEST(Flatten, RepeatsTimesPhasesTimesSteps) {
  const Plan plan = two_rounds();
  const auto flat = flatten(plan);
  ASSERT_EQ(flat.size(), 8u);
  const std::vector<std::string> names = {"warm", "hot", "ring", "cool", "warm", "hot", "ring", "cool"};
  const std::vector<std::uint32_t> phases = {0, 1, 1, 2, 3, 4, 4, 5};
  const std::vector<std::uint32_t> repeats = {0, 0, 0, 0, 1, 1, 1, 1};
  for (std::size_t i = 0; i < flat.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(flat[i].step_index, i);
    EXPECT_EQ(flat[i].step->name, names[i]);
    EXPECT_EQ(flat[i].phase_index, phases[i]);
    EXPECT_EQ(flat[i].repeat_index, repeats[i]);
  }
  // Both repeats point at the same immutable step.
  EXPECT_EQ(flat[1].step, flat[5].step);
}

TEST(TotalDuration, APhaseLastsItsLongestStep) {
  EXPECT_DOUBLE_EQ(total_duration(two_rounds()).count(), 2 * (10 + 30 + 5));
  EXPECT_DOUBLE_EQ(total_duration(Plan{}).count(), 0);
}

TEST(FindStep, ByNameIncludingInsideParallelGroups) {
  const Plan plan = two_rounds();
  ASSERT_NE(find_step(plan, "ring"), nullptr);
  EXPECT_EQ(find_step(plan, "ring")->pattern, "collective");
  EXPECT_EQ(find_step(plan, "nope"), nullptr);
}

TEST(Json, ParamsAndLimitsHaveStableKeyOrder) {
  const auto result = testing::load(R"(plan: t
steps:
  - name: a
    pattern: gemm
    duration: 1s
    params: {verify: golden, dtype: fp16, m: 1024}
    limits:
      tflops: {min: 0.85, of: peak, marginal_min: 0.9}
      sdc_errors: {max: 0}
)");
  ASSERT_TRUE(result.plan) << testing::all_messages(result);
  const Step& step = result.plan->phases[0].steps[0];
  EXPECT_EQ(params_to_json(step),
            R"({"data":"random","dtype":"fp16","k":"8192","m":"1024","n":"8192","verify":"golden"})");
  EXPECT_EQ(limits_to_json(step),
            R"({"sdc_errors":{"max":0.0,"of":"absolute"},"tflops":{"marginal_min":0.9,"min":0.85,"of":"peak"}})");

  Step idle;
  EXPECT_EQ(params_to_json(idle), "{}");
  EXPECT_EQ(limits_to_json(idle), "{}");
}

TEST(LimitBase, Names) {
  EXPECT_STREQ(to_string(LimitBase::absolute), "absolute");
  EXPECT_STREQ(to_string(LimitBase::peak), "peak");
  EXPECT_STREQ(to_string(LimitBase::peers), "peers");
  EXPECT_STREQ(to_string(LimitBase::baseline), "baseline");
}

}  // namespace
}  // namespace kiln::plan
