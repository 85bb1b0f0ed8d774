#include "daemon/report_text.hpp"

#include <gtest/gtest.h>

#include "daemon/shmoo_map.hpp"

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

TEST(ShmooMap, ReadsTheMapAShmooStepLeavesInItsNote) {
  const auto map = parse_shmoo_note(
      "shmoo mV\\MHz 2000 2400 2600 | 700 .XX | 750 ..X | 800 ...; 1 point(s) refused by the chip (too hot)");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->clocks_mhz, (std::vector<double>{2000, 2400, 2600}));
  EXPECT_EQ(map->voltages_mv, (std::vector<double>{700, 750, 800}));
  EXPECT_EQ(map->rows, (std::vector<std::string>{".XX", "..X", "..."}));
  EXPECT_FALSE(parse_shmoo_note("chip hung"));
  EXPECT_FALSE(parse_shmoo_note("shmoo mV\\MHz 2000 2400 | 700 .XX"));  // a row wider than the clocks
  EXPECT_FALSE(parse_shmoo_note("shmoo mV\\MHz 2000 | 700 Q"));
}

TEST(ReportText, DrawsEachShmooMapAsAGrid) {
  const std::string report = R"({
    "run": {"id": 2, "plan": "shmoo", "plan_sha256": "0123456789abcdef", "seed": 7, "status": "completed"},
    "chips": [
      {"serial": "S-2", "rack": "r01", "slot": 2, "sku": "trn2-sim", "verdict": "fail", "failures": [],
       "steps": [{"name": "shmoo", "verdict": "fail", "metrics": {},
                  "shmoo": {"clock_mhz": [2000, 2400], "voltage_mv": [700, 750], "map": [".X", ".."]}}]}]})";
  auto text = render_report_text(report);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_NE(text->find("S-2 step shmoo (fail):"), std::string::npos) << *text;
  EXPECT_NE(text->find("mV \\ MHz  2000  2400\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("     700     .     X\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("     750     .     .\n"), std::string::npos) << *text;
}

TEST(ReportText, RejectsWhatIsNotAReport) {
  EXPECT_FALSE(render_report_text("{\"hello\": 1}"));
  EXPECT_FALSE(render_report_text("not json"));
}

}  // namespace
}  // namespace kiln::daemon
