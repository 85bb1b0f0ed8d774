#include "agents/agent_options.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "agents/metric_summary.hpp"
#include "agents/step_params.hpp"

namespace kiln::agent {
namespace {

TEST(AgentOptionsTest, DefaultSkuDirIsBesideTheLabsDir) {
  EXPECT_EQ(default_sku_dir("device/labs/demo.yaml"), "device/skus");
  EXPECT_EQ(default_sku_dir("/opt/kiln/labs/x.yaml"), "/opt/kiln/skus");
}

TEST(MetricSummaryTest, RunningMinAvgMax) {
  MetricSummaries s;
  EXPECT_EQ(s.find("x"), nullptr);
  for (double v : {3.0, -1.0, 4.0}) s.add("x", v);
  const MetricSummary* x = s.find("x");
  ASSERT_NE(x, nullptr);
  EXPECT_DOUBLE_EQ(x->min(), -1);
  EXPECT_DOUBLE_EQ(x->max(), 4);
  EXPECT_DOUBLE_EQ(x->avg(), 2);
  EXPECT_EQ(x->count(), 3u);
  kiln::v1::ChipStepResult r;
  s.write_to(*r.mutable_metrics());
  EXPECT_DOUBLE_EQ(r.metrics().at("x").avg(), 2);
  EXPECT_EQ(r.metrics().at("x").count(), 3u);
}

TEST(StepParamsTest, ReadsCanonicalText) {
  kiln::v1::StepSpec spec;
  auto& p = *spec.mutable_params();
  p["n"] = "8192";
  p["f"] = "0.9";
  p["b"] = "true";
  p["c"] = "bf16";
  p["bad"] = "8192x";
  const StepParams params(spec.params());
  EXPECT_EQ(*params.integer("n", 1, 65536), 8192);
  EXPECT_FALSE(params.integer("n", 1, 100).ok());
  EXPECT_FALSE(params.integer("bad", 1, 1 << 20).ok());
  EXPECT_DOUBLE_EQ(*params.number("f", 0, 1), 0.9);
  EXPECT_TRUE(*params.boolean("b"));
  EXPECT_FALSE(params.boolean("c").ok());
  EXPECT_EQ(*params.choice("c", {"fp32", "bf16"}), "bf16");
  EXPECT_EQ(params.choice("c", {"fp32"}).error().message, "param c: 'bf16' is not one of fp32");
  EXPECT_EQ(params.integer("missing", 0, 1).error().message, "param missing is missing");
}

}  // namespace
}  // namespace kiln::agent
