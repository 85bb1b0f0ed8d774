#include "lifecycle/drift.hpp"

#include <gtest/gtest.h>

namespace kiln::lifecycle {
namespace {

std::vector<DriftPoint> series(std::initializer_list<double> values) {
  std::vector<DriftPoint> out;
  std::uint64_t run = 1;
  for (const double v : values) out.push_back({run++, v});
  return out;
}

TEST(Drift, AChipGettingSlowerWeekByWeekAlarmsAndSaysSince) {
  // TFLOPS at a fixed clock: steady, then losing 1.5 % a week.
  const auto f =
      drift_against_history("gemm_tflops", Better::higher, series({640, 641, 639, 640, 630, 620, 611, 601, 592}));
  EXPECT_TRUE(f.alarm) << f.reason;
  ASSERT_TRUE(f.since_run);
  EXPECT_GE(*f.since_run, 5u);
  EXPECT_LE(*f.since_run, 7u);
  EXPECT_NEAR(f.change, -0.075, 0.001);
}

TEST(Drift, NoiseAndImprovementsDoNotAlarm) {
  EXPECT_FALSE(
      drift_against_history("gemm_tflops", Better::higher, series({640, 641, 639, 642, 638, 641, 640, 639, 641, 640}))
          .alarm);
  EXPECT_FALSE(drift_against_history("gemm_tflops", Better::higher, series({640, 641, 639, 660, 670, 680})).alarm)
      << "faster is not drift";
  EXPECT_TRUE(drift_against_history("temperature_at_400w_c", Better::lower, series({71, 71.2, 70.9, 74, 77, 80})).alarm)
      << "for temperature, up is worse";
}

TEST(Drift, TooShortAHistorySaysSo) {
  const auto f = drift_against_history("hbm_gbps", Better::higher, series({3000, 2000}));
  EXPECT_FALSE(f.alarm);
  EXPECT_NE(f.reason.find("baseline needs 3"), std::string::npos) << f.reason;
}

TEST(Drift, WorseThanItsPeers) {
  const std::vector<double> peers = {640, 642, 638, 641, 639, 640, 643, 637};
  const auto slow = drift_against_peers("gemm_tflops", Better::higher, 600, peers);
  EXPECT_TRUE(slow.alarm) << slow.reason;
  EXPECT_FALSE(drift_against_peers("gemm_tflops", Better::higher, 636, peers).alarm);
  EXPECT_FALSE(drift_against_peers("gemm_tflops", Better::higher, 680, peers).alarm) << "better is not drift";
  EXPECT_FALSE(drift_against_peers("gemm_tflops", Better::higher, 100, {640, 641}).alarm) << "too few peers";
}

}  // namespace
}  // namespace kiln::lifecycle
