#include "daemon/step_watch.hpp"

#include <gtest/gtest.h>

namespace kiln::daemon {
namespace {

kiln::v1::Sample sample(double t_s, std::initializer_list<std::pair<const char*, double>> values) {
  kiln::v1::Sample s;
  s.set_serial("A-0");
  s.set_t_s(t_s);
  for (const auto& [name, value] : values) {
    auto* v = s.add_values();
    v->set_name(name);
    v->set_value(value);
  }
  return s;
}

kiln::v1::ChipStepResult identity() {
  kiln::v1::ChipStepResult r;
  r.set_serial("A-0");
  r.set_run_id(3);
  r.set_step_index(1);
  return r;
}

TEST(StepWatch, SummarisesGaugesAsTheAgentDoes) {
  CounterValues last;
  StepWatch watch(identity(), {});
  watch.add(sample(0.1, {{"temperature_c", 60}}), last);
  watch.add(sample(0.2, {{"temperature_c", 70}}), last);
  watch.add(sample(0.3, {{"temperature_c", 65}}), last);
  const auto& t = watch.partial().metrics().at("temperature_c");
  EXPECT_DOUBLE_EQ(t.min(), 60);
  EXPECT_DOUBLE_EQ(t.avg(), 65);
  EXPECT_DOUBLE_EQ(t.max(), 70);
  EXPECT_EQ(t.count(), 3u);
  EXPECT_EQ(watch.partial().serial(), "A-0");
  EXPECT_EQ(watch.partial().step_index(), 1u);
  EXPECT_DOUBLE_EQ(watch.partial().ran_s(), 0.3);
  EXPECT_TRUE(last.empty());  // gauges carry nothing to the next step
}

TEST(StepWatch, ACountersStepCountStartsWhereTheStepBegan) {
  // hbm_ce reached 4 in an earlier step: this step's own count is max − 4.
  CounterValues last{{"hbm_ce", 4}};
  StepWatch watch(identity(), last);
  watch.add(sample(0.1, {{"hbm_ce", 5}}), last);
  watch.add(sample(0.2, {{"hbm_ce", 7}}), last);
  const auto& ce = watch.partial().metrics().at("hbm_ce");
  EXPECT_DOUBLE_EQ(ce.min(), 4);
  EXPECT_DOUBLE_EQ(ce.max(), 7);
  EXPECT_DOUBLE_EQ(last.at("hbm_ce"), 7);  // where the chip's next step starts
}

TEST(StepWatch, ACounterNeverSeenInTheRunStartsAtZero) {
  CounterValues last;
  StepWatch watch(identity(), {});
  watch.add(sample(0.1, {{"sdc_errors", 2}}), last);
  EXPECT_DOUBLE_EQ(watch.partial().metrics().at("sdc_errors").min(), 0);
  EXPECT_DOUBLE_EQ(watch.partial().metrics().at("sdc_errors").max(), 2);
}

}  // namespace
}  // namespace kiln::daemon
