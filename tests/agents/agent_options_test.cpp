#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "agents/metric_summary.hpp"

namespace kiln::agent {
namespace {

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

}  // namespace
}  // namespace kiln::agent
