// The plans shipped in testplans/ load cleanly, and mean what their
// authors intended (values given and defaults filled in).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

std::string shipped(const char* name) { return std::string(KILN_SOURCE_DIR) + "/testplans/" + name; }

const Limit* find_limit(const Step& step, std::string_view metric) {
  for (const auto& l : step.limits) {
    if (l.metric == metric) return &l;
  }
  return nullptr;
}

Plan load_shipped(const char* name) {
  const auto result = load_plan_file(shipped(name), testing::builtin_registry());
  EXPECT_TRUE(result.diagnostics.empty()) << testing::all_messages(result);
  if (!result.plan) throw std::runtime_error(std::string(name) + " did not load");
  return *result.plan;
}

TEST(ShippedPlans, EveryYamlFileInTestplansLoadsCleanly) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(KILN_SOURCE_DIR) + "/testplans")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    const auto result = load_plan_file(entry.path().string(), testing::builtin_registry());
    EXPECT_TRUE(result.plan) << testing::all_messages(result);
    EXPECT_TRUE(result.diagnostics.empty()) << testing::all_messages(result);
  }
  EXPECT_GE(count, 2);
}

TEST(ShippedPlans, SmokeIsAboutOneMinuteOfGemmThenCooldown) {
  const Plan plan = load_shipped("smoke.yaml");
  EXPECT_EQ(plan.name, "smoke");
  EXPECT_DOUBLE_EQ(plan.sample_hz, 10);
  EXPECT_EQ(plan.repeat, 1u);
  EXPECT_TRUE(plan.targets.all_racks);
  EXPECT_DOUBLE_EQ(total_duration(plan).count(), 60);
  ASSERT_EQ(plan.phases.size(), 2u);
  ASSERT_EQ(plan.phases[0].steps.size(), 1u);
  ASSERT_EQ(plan.phases[1].steps.size(), 1u);

  const Step& gemm = plan.phases[0].steps[0];
  EXPECT_EQ(gemm.name, "gemm-bf16");
  EXPECT_EQ(gemm.pattern, "gemm");
  EXPECT_DOUBLE_EQ(gemm.duration.count(), 45);
  EXPECT_EQ(gemm.params, (std::map<std::string, std::string>{{"dtype", "bf16"},
                                                             {"verify", "abft+golden"},
                                                             {"m", "8192"},
                                                             {"n", "8192"},
                                                             {"k", "8192"},
                                                             {"data", "random"}}));  // data: the default
  ASSERT_EQ(gemm.limits.size(), 3u);
  const Limit* sdc = find_limit(gemm, "sdc_errors");
  ASSERT_NE(sdc, nullptr);
  EXPECT_EQ(sdc->max, 0.0);
  EXPECT_FALSE(sdc->min);
  EXPECT_EQ(sdc->of, LimitBase::absolute);
  const Limit* temp = find_limit(gemm, "temperature_c");
  ASSERT_NE(temp, nullptr);
  EXPECT_EQ(temp->max, 95.0);
  EXPECT_EQ(temp->marginal_max, 90.0);
  const Limit* tflops = find_limit(gemm, "tflops");
  ASSERT_NE(tflops, nullptr);
  EXPECT_EQ(tflops->min, 0.5);
  EXPECT_EQ(tflops->of, LimitBase::peak);

  const Step& cooldown = plan.phases[1].steps[0];
  EXPECT_EQ(cooldown.name, "cooldown");
  EXPECT_EQ(cooldown.pattern, "idle");
  EXPECT_DOUBLE_EQ(cooldown.duration.count(), 15);
  EXPECT_TRUE(cooldown.params.empty());
  ASSERT_EQ(cooldown.limits.size(), 1u);
  EXPECT_EQ(cooldown.limits[0].metric, "temperature_c");
  EXPECT_EQ(cooldown.limits[0].max, 95.0);
}

TEST(ShippedPlans, StandardFollowsTheDesignExample) {
  const Plan plan = load_shipped("standard.yaml");
  EXPECT_EQ(plan.name, "standard");
  EXPECT_EQ(plan.description, "15-minute qualification of every chip");
  EXPECT_EQ(plan.seed, 7u);
  EXPECT_DOUBLE_EQ(total_duration(plan).count(), 15 * 60);
  ASSERT_EQ(plan.phases.size(), 4u);

  const Step& gemm = plan.phases[0].steps[0];
  EXPECT_EQ(gemm.name, "gemm-bf16");
  EXPECT_DOUBLE_EQ(gemm.duration.count(), 300);
  EXPECT_EQ(find_limit(gemm, "tflops")->marginal_min, 0.9);
  EXPECT_EQ(find_limit(gemm, "throttle_fraction")->max, 0.05);

  const Step& hbm = plan.phases[1].steps[0];
  EXPECT_EQ(hbm.pattern, "hbm");
  EXPECT_DOUBLE_EQ(hbm.duration.count(), 180);
  EXPECT_EQ(hbm.params.at("test"), "moving_inversions");
  EXPECT_EQ(hbm.params.at("fraction"), "0.9");
  EXPECT_EQ(find_limit(hbm, "hbm_ce")->max, 10.0);

  const Step& allreduce = plan.phases[2].steps[0];
  EXPECT_EQ(allreduce.pattern, "collective");
  EXPECT_EQ(allreduce.params.at("sizes"), "1048576,67108864,1073741824");
  EXPECT_EQ(allreduce.params.at("check"), "true");
  EXPECT_EQ(find_limit(allreduce, "busbw_gbps")->of, LimitBase::peak);

  ASSERT_EQ(plan.phases[3].steps.size(), 2u);
  const Step& hot = plan.phases[3].steps[0];
  const Step& ring = plan.phases[3].steps[1];
  EXPECT_EQ(hot.name, "gemm-hot");
  EXPECT_EQ(hot.params.at("dtype"), "fp8");
  EXPECT_EQ(hot.params.at("m"), "8192");  // defaults fill what the plan left out
  EXPECT_EQ(hot.params.at("verify"), "abft+golden");
  EXPECT_EQ(hot.params_given, (std::vector<std::string>{"dtype", "verify"}));
  EXPECT_EQ(ring.name, "ring-hot");
  EXPECT_EQ(ring.params.at("op"), "allreduce");
  EXPECT_EQ(ring.params.at("sizes"), "1048576,67108864,1073741824");
  EXPECT_DOUBLE_EQ(ring.duration.count(), 120);
}

TEST(ShippedPlans, TextIsStoredVerbatim) {
  const Plan plan = load_shipped("standard.yaml");
  std::ifstream in(shipped("standard.yaml"), std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(plan.text, text.str());
}

}  // namespace
}  // namespace kiln::plan
