#include "agents/detection_log.hpp"

#include <gtest/gtest.h>

namespace kiln::agent {
namespace {

constexpr Finding kSdc{metrics::FailureClass::sdc, kiln::v1::DETECTION_CORRUPTION};

TEST(DetectionLogTest, AggregatesPerLocationKeepingFirstConditions) {
  DetectionLog log;
  device::Telemetry hot;
  hot.temperature_c = 71.3;
  device::Telemetry hotter;
  hotter.temperature_c = 90;
  const Location pe{{"core", 1}, {"pe_row", 12}, {"pe_col", 40}, {"bit", 22}};
  log.record(kSdc, "sdc_errors", pe, 1, {0.1, 1000, &hot});
  log.record(kSdc, "sdc_errors", pe, 2, {0.5, 1400, &hotter});
  log.record(kSdc, "sdc_errors", {{"core", 0}}, 1, {0.6, 1500, nullptr});
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(log.count(metrics::FailureClass::sdc), 4u);
  kiln::v1::ChipStepResult r;
  log.write_to(r);
  ASSERT_EQ(r.detections_size(), 2);
  const auto& d = r.detections(0);
  EXPECT_EQ(d.count(), 3u);
  EXPECT_DOUBLE_EQ(d.first_t_s(), 0.1);
  EXPECT_DOUBLE_EQ(d.last_t_s(), 0.5);
  EXPECT_EQ(d.first_wall_unix_ms(), 1000);
  EXPECT_EQ(d.last_wall_unix_ms(), 1400);
  EXPECT_DOUBLE_EQ(d.conditions().temperature_c(), 71.3);
  EXPECT_FALSE(d.conditions().has_power_w()) << "unavailable stays unset";
  EXPECT_FALSE(r.detections(1).has_conditions());
}

TEST(DetectionLogTest, DistinctLocationsAreCappedIntoOneOverflow) {
  DetectionLog log(2);
  for (int bit = 0; bit < 5; ++bit) log.record(kSdc, "sdc_errors", {{"bit", bit}}, 1, {0.1 * bit, 0, nullptr});
  kiln::v1::ChipStepResult r;
  log.write_to(r);
  ASSERT_EQ(r.detections_size(), 3);
  EXPECT_EQ(r.detections(2).location_size(), 0);
  EXPECT_EQ(r.detections(2).count(), 3u);
  EXPECT_NE(r.detections(2).detail().find("more than 2 distinct locations"), std::string::npos);
  EXPECT_EQ(log.count(metrics::FailureClass::sdc), 5u);
}

}  // namespace
}  // namespace kiln::agent
