// `kiln telemetry --format json`: a series per (serial, step, metric) with
// parallel t_s and values columns, unavailable values as null.
#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/telemetry_json.hpp"

namespace kiln::reports {
namespace {

TEST(TelemetryJson, ASeriesPerStepWithColumnsLabelsAndNullForUnavailable) {
  kiln::v1::RunPlan plan;
  for (std::uint32_t i = 0; i < 2; ++i) {  // `repeat: 2` of one step
    auto* s = plan.add_steps();
    s->set_step_index(i);
    s->set_name("gemm");
  }
  kiln::v1::TelemetrySeries telemetry;
  telemetry.set_run_id(7);
  auto* series = telemetry.add_series();
  series->set_serial("TRN-1");
  series->set_step_index(1);
  series->set_metric("temperature_c");
  series->add_t_s(0.1);
  series->add_values(40.5);
  series->add_t_s(0.2);
  series->add_values(NAN);
  const auto j = nlohmann::json::parse(telemetry_json(telemetry, plan));
  EXPECT_EQ(j["run"], 7);
  ASSERT_EQ(j["series"].size(), 1u);
  const auto& s = j["series"][0];
  EXPECT_EQ(s["serial"], "TRN-1");
  EXPECT_EQ(s["step"], "gemm #2");  // the label every report uses
  EXPECT_EQ(s["unit"], "°C");
  EXPECT_EQ(s["t_s"], nlohmann::json::array({0.1, 0.2}));
  EXPECT_EQ(s["values"][0], 40.5);
  EXPECT_TRUE(s["values"][1].is_null());  // unavailable, never 0
}

}  // namespace
}  // namespace kiln::reports
