#include "reports/report_text.hpp"

#include <gtest/gtest.h>

#include "reports/shmoo_map.hpp"

namespace kiln::reports {
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

TEST(ShmooMap, TheReportsJsonCarriesTheMapAndReadsBackTheSame) {
  store::ShmooMap map;
  map.clocks_mhz = {2000, 2400, 2600};
  map.voltages_mv = {700, 750, 800};
  map.rows = {".XX", "..X", "..."};
  const auto json = shmoo_json(map);
  EXPECT_EQ(json.dump(),
            R"({"clock_mhz":[2000.0,2400.0,2600.0],"voltage_mv":[700.0,750.0,800.0],"map":[".XX","..X","..."]})");
  const store::ShmooMap back = shmoo_from_json(json);
  EXPECT_EQ(back.clocks_mhz, map.clocks_mhz);
  EXPECT_EQ(back.voltages_mv, map.voltages_mv);
  EXPECT_EQ(back.rows, map.rows);
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
}  // namespace kiln::reports
