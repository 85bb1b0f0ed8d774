// A lab with many faults: chips that could not be judged for one reason read
// as one line per cause, not one line per chip (the JSON keeps each chip).
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "reports/cause_lines.hpp"
#include "reports/report_text.hpp"
#include "reports/step_names.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;

constexpr const char* kStalled = "step cut short: collective stalled: link 0 of R01-03 down";
constexpr const char* kLost = "not run: agent lost";

Json step(const std::string& name, const std::string& verdict, const std::string& reason = "") {
  Json s{{"name", name}, {"label", name}, {"verdict", verdict}, {"metrics", Json::object()}};
  if (!reason.empty()) s["reason"] = reason;
  return s;
}

Json chip(const std::string& serial, const std::string& verdict, Json steps) {
  return {{"serial", serial},         {"rack", serial.substr(0, 3)}, {"slot", 0},
          {"sku", "trn2-sim"},        {"verdict", verdict},          {"failures", Json::array()},
          {"steps", std::move(steps)}};
}

// Rack r01: link 0 of R01-03 goes down in allreduce; R01-03 and R01-04 (its
// two ends) fail, the other eight stall. Rack r02's agent is lost before
// hbm: three chips error in both steps, R02-03 (added later) in allreduce only.
// R03-00 cannot read memory_errors.
std::string many_faults() {
  Json chips = Json::array();
  for (int i = 0; i < 10; ++i) {
    const std::string serial = "R01-0" + std::to_string(i);
    if (i == 3 || i == 4) {
      chips.push_back(chip(serial, "fail", {step("hbm", "pass"), step("allreduce", "fail", "link_down")}));
    } else {
      chips.push_back(chip(serial, "inconclusive", {step("hbm", "pass"), step("allreduce", "inconclusive", kStalled)}));
    }
  }
  for (int i = 0; i < 3; ++i) {
    chips.push_back(
        chip("R02-0" + std::to_string(i), "error", {step("hbm", "error", kLost), step("allreduce", "error", kLost)}));
  }
  chips.push_back(chip("R02-03", "error", {step("hbm", "pass"), step("allreduce", "error", kLost)}));
  chips.push_back(chip("R03-00", "inconclusive",
                       {step("hbm", "inconclusive", "memory_errors: unavailable on this chip, limit not judged"),
                        step("allreduce", "pass")}));
  return Json{{"run", {{"id", 3}, {"plan", "standard"}, {"seed", 7}, {"status", "completed"}}}, {"chips", chips}}
      .dump();
}

TEST(ReportCauses, FoldsChipsInconclusiveForOneCauseIntoOneLineNamingAFewSerials) {
  const std::string text = render_report_text(many_faults()).value();
  EXPECT_NE(text.find("\n  inconclusive in step allreduce on 8 chips (R01-00, R01-01, R01-02, R01-05, R01-06 and 3 "
                      "more): step cut short: collective stalled: link 0 of R01-03 down\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("R01-01 inconclusive in step"), std::string::npos) << "no block per chip\n" << text;
  EXPECT_EQ(text.find("R01-09"), text.rfind("R01-09")) << "named once, in the verdict table\n" << text;
}

TEST(ReportCauses, ErrorsForOneCauseFoldTooAndEachLineSaysExactlyWhichStepsItHit) {
  const std::string text = render_report_text(many_faults()).value();
  EXPECT_NE(text.find("\n  error in steps hbm, allreduce on 3 chips (R02-00, R02-01, R02-02): not run: agent lost\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  R02-03 error in step allreduce: not run: agent lost\n"), std::string::npos) << text;
}

TEST(ReportCauses, ACauseOfOneChipReadsAsBefore) {
  const std::string text = render_report_text(many_faults()).value();
  EXPECT_NE(text.find("\n  R03-00 inconclusive in step hbm: memory_errors: unavailable on this chip, limit not "
                      "judged\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("15 chips: 9 inconclusive, 4 error, 2 fail"), std::string::npos) << text;
}

TEST(ReportCauses, NamesAllSerialsWhenOnlyOneMoreWouldBeCounted) {
  Json chips = Json::array();
  for (int i = 0; i < 6; ++i) {
    chips.push_back(chip("C-" + std::to_string(i), "error", {step("gemm", "error", kLost)}));
  }
  EXPECT_EQ(inconclusive_by_cause(chips),
            "  error in step gemm on 6 chips (C-0, C-1, C-2, C-3, C-4, C-5): not run: agent lost\n");
}

TEST(ReportCauses, AStepIsShownByItsLabel) {
  EXPECT_EQ(step_label(Json{{"name", "gemm"}, {"label", "gemm #2"}}), "gemm #2");
  EXPECT_EQ(step_label(Json{{"step", "gemm"}, {"step_label", "gemm #3"}}), "gemm #3");
  EXPECT_EQ(step_label(Json{{"name", "gemm"}}), "gemm") << "a report written before labels";
}

}  // namespace
}  // namespace kiln::reports
