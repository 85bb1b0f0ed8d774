#include "daemon/report_text.hpp"

#include <gtest/gtest.h>

namespace kiln::daemon {
namespace {

TEST(ReportText, ShowsVerdictTableFailureLocationAndReproduction) {
  const std::string report = R"({
    "run": {"id": 1, "plan": "smoke", "plan_sha256": "0123456789abcdef", "seed": 7, "lab": "demo",
            "status": "completed", "started": "2026-11-25T17:00:00.000Z", "ended": "2026-11-25T17:00:10.000Z"},
    "chips": [
      {"serial": "R01-00", "rack": "r01", "slot": 0, "sku": "trn2-sim", "verdict": "pass", "failures": [],
       "steps": [{"name": "gemm-bf16", "verdict": "pass", "metrics": {}}]},
      {"serial": "TRN-0205", "rack": "r02", "slot": 5, "sku": "trn2-sim", "verdict": "fail",
       "failures": [{"class": "sdc", "step": "gemm-bf16", "count": 17, "core": 1, "pe": [12, 40], "bit": 22,
                     "first_at": "2026-11-25T17:00:03.000Z", "conditions": {"temperature_c": 71.3}}],
       "steps": [{"name": "gemm-bf16", "verdict": "fail", "metrics": {}}]}],
    "reproduce": "kiln run submit smoke.yaml --seed 7"})";
  auto text = render_report_text(report);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_NE(text->find("Run 1  plan smoke"), std::string::npos) << *text;
  EXPECT_NE(text->find("TRN-0205"), std::string::npos);
  EXPECT_NE(text->find("FAIL"), std::string::npos);
  EXPECT_NE(text->find("sdc in step gemm-bf16: core 1 pe [12,40] bit 22 ×17"), std::string::npos) << *text;
  EXPECT_NE(text->find("71.3 °C"), std::string::npos);
  EXPECT_NE(text->find("2 chips: 1 pass, 1 fail"), std::string::npos) << *text;
  EXPECT_NE(text->find("Reproduce: kiln run submit smoke.yaml --seed 7"), std::string::npos);
}

TEST(ReportText, RejectsWhatIsNotAReport) {
  EXPECT_FALSE(render_report_text("{\"hello\": 1}"));
  EXPECT_FALSE(render_report_text("not json"));
}

}  // namespace
}  // namespace kiln::daemon
