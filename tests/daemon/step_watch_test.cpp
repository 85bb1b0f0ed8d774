#include "daemon/step_watch.hpp"

#include <gtest/gtest.h>

#include <cmath>

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

namespace kiln::daemon {
namespace {

// A chunk's figures (what ingest decoded) summarise to what its samples would.
TEST(StepWatch, AChunksDigestSummarisesAsItsSamplesWould) {
  const std::vector<std::pair<double, double>> points = {{0.1, 60}, {0.2, 70}, {0.3, 65}};  // t, temperature
  CounterValues by_samples_last, by_chunk_last;
  StepWatch by_samples(identity(), {{"hbm_ce", 2}});
  StepWatch by_chunk(identity(), {{"hbm_ce", 2}});
  store::ChunkDigest digest;
  digest.serial = "A-0";
  digest.last_t_s = 0.3;
  store::chunk::Series temperature{0, 100, {}}, ce{1, 1, {}};
  double counter = 3;
  for (const auto& [t, value] : points) {
    by_samples.add(sample(t, {{"temperature_c", value}, {"hbm_ce", counter}}), by_samples_last);
    temperature.points.push_back({std::llround(t * 1e6), 0, value});
    ce.points.push_back({std::llround(t * 1e6), 0, counter});
    counter += 1;
  }
  digest.metrics.push_back({"temperature_c", store::chunk::stats_of(temperature)});
  digest.metrics.push_back({"hbm_ce", store::chunk::stats_of(ce)});
  by_chunk.add(digest, by_chunk_last);
  for (const char* name : {"temperature_c", "hbm_ce"}) {
    const auto& a = by_samples.partial().metrics().at(name);
    const auto& b = by_chunk.partial().metrics().at(name);
    EXPECT_DOUBLE_EQ(a.min(), b.min()) << name;
    EXPECT_DOUBLE_EQ(a.avg(), b.avg()) << name;
    EXPECT_DOUBLE_EQ(a.max(), b.max()) << name;
    EXPECT_EQ(a.count(), b.count()) << name;
  }
  EXPECT_DOUBLE_EQ(by_chunk.partial().metrics().at("hbm_ce").min(), 2) << "a counter starts where the step began";
  EXPECT_EQ(by_chunk_last, by_samples_last);
  EXPECT_DOUBLE_EQ(by_chunk.partial().ran_s(), by_samples.partial().ran_s());
}

}  // namespace
}  // namespace kiln::daemon
