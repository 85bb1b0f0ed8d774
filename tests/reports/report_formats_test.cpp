#include "reports/report_formats.hpp"

#include <set>

#include <gtest/gtest.h>

namespace kiln::reports {
namespace {

const std::string kReport = R"({
  "run": {"id": 3, "plan": "smoke", "plan_sha256": "0123456789abcdef", "seed": 7, "lab": "demo",
          "status": "completed", "started": "2026-11-25T17:00:00.000Z", "ended": "2026-11-25T17:00:10.000Z"},
  "chips": [{"serial": "TRN-0205", "rack": "r02", "slot": 5, "sku": "trn2-sim", "verdict": "fail",
             "failures": [{"class": "sdc", "step": "gemm-bf16", "count": 2, "core": 1, "pe": [12, 40], "bit": 22}],
             "steps": [{"name": "gemm-bf16", "verdict": "fail", "metrics": {}}]}],
  "reproduce": "kiln run submit smoke.yaml --seed 7"})";

TEST(ReportFormats, TextIsTheDefaultAndEveryNameIsUnique) {
  const auto names = report_format_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "text");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
}

TEST(ReportFormats, EveryFormatRendersTheFailingChipOfAReport) {
  for (const ReportFormat& format : report_formats()) {
    auto out = format.render(kReport);
    ASSERT_TRUE(out) << format.name << ": " << out.error().message;
    EXPECT_NE(out->find("TRN-0205"), std::string::npos) << format.name << ":\n" << *out;
    EXPECT_EQ(out->back(), '\n') << format.name;
  }
}

TEST(ReportFormats, JsonIsTheReportItself) {
  const ReportFormat* json = find_report_format("json");
  ASSERT_NE(json, nullptr);
  auto out = json->render(kReport);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, kReport + "\n");
}

TEST(ReportFormats, AnUnknownNameIsNotAFormat) {
  EXPECT_EQ(find_report_format("xml"), nullptr);
  EXPECT_EQ(find_report_format(""), nullptr);
}

}  // namespace
}  // namespace kiln::reports
