#include "metrics/catalog.hpp"

#include <algorithm>
#include <stdexcept>

#include <gtest/gtest.h>

namespace kiln::metrics {
namespace {

const MetricCatalog& catalog() { return MetricCatalog::builtin(); }

TEST(MetricCatalog, EveryTelemetryMetricOfTheDesignIsDeclared) {
  for (const char* name :
       {"temperature_c", "hbm_temperature_c", "power_w", "clock_mhz", "voltage_mv", "utilization", "tflops", "hbm_gbps",
        "throttled", "sdc_errors", "hbm_ce", "hbm_ue", "memory_errors", "link0_gbps", "link3_crc_errors", "link1_up"}) {
    EXPECT_NE(catalog().find(name), nullptr) << name;
  }
}

TEST(MetricCatalog, PerLinkNamesResolveToTheirTemplateAndLink) {
  const MetricRef ref = catalog().resolve("link12_crc_errors");
  ASSERT_NE(ref.def, nullptr);
  EXPECT_EQ(ref.def->name, "link{}_crc_errors");
  EXPECT_EQ(ref.link, 12);
  EXPECT_EQ(ref.def->kind, MetricKind::counter);
  EXPECT_EQ(link_metric(kLinkGbpsOf, 3), "link3_gbps");
}

TEST(MetricCatalog, MalformedPerLinkNamesAreUnknown) {
  for (const char* name : {"link_gbps_x", "linkx_gbps", "link-1_gbps", "link01_gbps", "link{}_gbps1", "link_up"}) {
    EXPECT_EQ(catalog().find(name), nullptr) << name;
  }
  // link_gbps is a metric of its own (the collective's slowest link), not a template instance.
  ASSERT_NE(catalog().find("link_gbps"), nullptr);
  EXPECT_FALSE(catalog().resolve("link_gbps").link.has_value());
}

TEST(MetricCatalog, KindsTellCountersFromGaugesAndFlags) {
  EXPECT_TRUE(catalog().is_counter("sdc_errors"));
  EXPECT_TRUE(catalog().is_counter("link0_crc_errors"));
  EXPECT_FALSE(catalog().is_counter("temperature_c"));
  EXPECT_FALSE(catalog().is_counter("shmoo_failures"));  // a count of points, not cumulative within a run
  EXPECT_TRUE(catalog().is_flag("throttled"));
  EXPECT_TRUE(catalog().is_flag("link2_up"));
  EXPECT_FALSE(catalog().is_flag("throttle_fraction"));
}

TEST(MetricCatalog, ViolatedLimitsMapToTheirFailureClass) {
  EXPECT_EQ(catalog().at(kSdcErrors).failure_class, FailureClass::sdc);
  EXPECT_EQ(catalog().at(kTflops).failure_class, FailureClass::underperforming);
  EXPECT_EQ(catalog().at(kThrottleFraction).failure_class, FailureClass::thermal);
  EXPECT_EQ(catalog().at(kHbmCe).failure_class, FailureClass::memory_ce_excess);
  EXPECT_EQ(catalog().at(kMemoryErrors).failure_class, FailureClass::memory_pattern);
  EXPECT_EQ(catalog().at(kDataErrors).failure_class, FailureClass::link_errors);
  EXPECT_EQ(catalog().at(kShmooFailures).failure_class, FailureClass::margin);
}

TEST(MetricCatalog, PeakKeysNameTheFigureAndItsStepParameter) {
  EXPECT_EQ(catalog().at(kTflops).peak_key, "tflops");
  EXPECT_EQ(catalog().at(kTflops).peak_param, "dtype");
  EXPECT_EQ(catalog().at(kPowerW).peak_key, "tdp_w");
  EXPECT_TRUE(catalog().at(kTemperatureC).peak_key.empty());
}

TEST(MetricCatalog, CommonMetricsAreTheOnesEveryStepMayLimit) {
  const auto common = catalog().common_names();
  for (const char* name : {"temperature_c", "throttle_fraction", "hbm_ce", "link_crc_errors", "link_down"}) {
    EXPECT_NE(std::find(common.begin(), common.end(), name), common.end()) << name;
  }
  EXPECT_EQ(std::find(common.begin(), common.end(), "tflops"), common.end());
}

TEST(MetricCatalog, EveryMetricHasAPositivePrecisionAndCountersAreExact) {
  for (const MetricDef& def : catalog().all()) {
    EXPECT_GT(def.precision, 0) << def.name;
    if (def.kind != MetricKind::gauge) {
      EXPECT_EQ(def.precision, 1) << def.name;
    }
  }
}

TEST(MetricCatalog, AddingADuplicateOrAMalformedTemplateIsAProgrammingError) {
  MetricCatalog c = catalog();
  MetricDef dup;
  dup.name = "temperature_c";
  EXPECT_THROW(c.add(dup), std::logic_error);
  MetricDef bad;
  bad.name = "{}_gbps";
  EXPECT_THROW(c.add(bad), std::logic_error);
  MetricDef toy;
  toy.name = "toy_widgets";
  c.add(toy);
  EXPECT_NE(c.find("toy_widgets"), nullptr);
  EXPECT_EQ(catalog().find("toy_widgets"), nullptr);  // the builtin table is not changed
}

TEST(FailureClass, NamesRoundTrip) {
  for (FailureClass cls : all_failure_classes()) EXPECT_EQ(parse_failure_class(to_string(cls)), cls);
  EXPECT_EQ(all_failure_classes().size(), 12u);
  EXPECT_FALSE(parse_failure_class("limit").has_value());
}

}  // namespace
}  // namespace kiln::metrics
