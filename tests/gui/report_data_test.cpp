#include "gui/model/report_data.hpp"

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

TEST(VerdictMatrix, ReadsChipsStepsAndFailuresFromTheReport) {
  const char* report = R"({"run": {"id": 3, "status": "completed"}, "chips": [
    {"serial": "TRN-0205", "rack": "r02", "slot": 5, "verdict": "fail",
     "failures": [{"class": "sdc", "step": "gemm-bf16", "count": 17, "core": 1, "pe": [12, 40], "bit": 22,
                   "first_at": "t0", "last_at": "t1", "first_t_s": 1, "last_t_s": 2,
                   "conditions": {"temperature_c": 71.26, "clock_mhz": 2400}}],
     "steps": [{"name": "gemm-bf16", "verdict": "fail", "reason": "sdc_errors 17 > 0"}, {"name": "cooldown", "verdict": "pass"}]},
    {"serial": "R01-00", "rack": "r01", "slot": 0, "verdict": null, "failures": [],
     "steps": [{"name": "gemm-bf16", "verdict": "pass"}, {"name": "cooldown", "verdict": null}]}]})";
  auto m = VerdictMatrix::from_report_json(report);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->steps, (std::vector<std::string>{"gemm-bf16", "cooldown"}));
  EXPECT_EQ(m->chip_verdicts, (std::vector<std::string>{"fail", ""}));
  EXPECT_EQ(m->cells[1][1], "");
  EXPECT_EQ(m->reasons[0][0], "sdc_errors 17 > 0");
  const auto failures = m->failures_of("TRN-0205");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].location, "bit=22 core=1 pe=[12,40]");
  EXPECT_EQ(failures[0].conditions, "71.3 °C, 2400 MHz");
  EXPECT_TRUE(m->failures_of("R01-00").empty());
  EXPECT_FALSE(VerdictMatrix::from_report_json(R"({"chips": []})"));
}

// A report's step labels and a failure's step index are not its location.
TEST(VerdictMatrix, ShowsRepeatedStepsByTheirLabels) {
  const char* report = R"({"run": {"id": 4, "status": "completed"}, "chips": [
    {"serial": "TRN-0205", "rack": "r02", "slot": 5, "verdict": "fail",
     "failures": [{"class": "link_down", "step": "allreduce", "step_index": 1, "step_label": "allreduce #2",
                   "count": 1, "link": 0}],
     "steps": [{"name": "allreduce", "index": 0, "label": "allreduce", "verdict": "pass"},
               {"name": "allreduce", "index": 1, "label": "allreduce #2", "verdict": "fail"}]}]})";
  auto m = VerdictMatrix::from_report_json(report);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->steps, (std::vector<std::string>{"allreduce", "allreduce #2"}));
  const auto failures = m->failures_of("TRN-0205");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].step, "allreduce #2");
  EXPECT_EQ(failures[0].location, "link=0");
}

TEST(ChipHistory, ListsTheSerialsRuns) {
  auto h = ChipHistory::from_chip_json(R"({"serial": "TRN-0205", "sku": "trn2-sim", "rack": "r02", "slot": 5,
    "runs": [{"run": 4, "plan": "smoke", "rack": "r02", "slot": 5, "verdict": "fail", "status": "completed", "submitted": "s"}]})");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->runs.size(), 1u);
  EXPECT_EQ(h->runs[0].run_id, 4u);
  EXPECT_EQ(h->runs[0].verdict, "fail");
}

}  // namespace
}  // namespace kiln::gui
