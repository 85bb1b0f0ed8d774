#include "reports/report_formats.hpp"

#include "reports/report_csv.hpp"
#include "reports/report_junit.hpp"

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

namespace kiln::reports {
namespace {

const std::string kMixed = R"({
  "run": {"id": 9, "plan": "p", "seed": 1, "started": "2026-12-02T00:00:00.000Z"},
  "chips": [{"serial": "A-0", "rack": "r", "slot": 0, "sku": "s", "verdict": "inconclusive",
             "failures": [],
             "steps": [{"name": "ring", "label": "ring", "index": 0, "verdict": "inconclusive", "ran_s": 1,
                        "reason": "collective stalled: chip <B-1> is \"hung\"\u0001"},
                       {"name": "gemm", "label": "gemm #2", "index": 3, "verdict": "marginal", "ran_s": 2,
                        "reason": "tflops avg 0.88, < marginal_min 0.9"}]}],
  "reproduce": "kiln run submit p.yaml --seed 1"})";

TEST(ReportJunit, InconclusiveIsSkippedWithItsReasonAndTextIsEscaped) {
  auto xml = render_report_junit(kMixed);
  ASSERT_TRUE(xml) << xml.error().message;
  EXPECT_NE(xml->find(R"(<skipped message="inconclusive: collective stalled: chip &lt;B-1&gt; is &quot;hung&quot;)"
                      "\xEF\xBF\xBD"),
            std::string::npos)
      << *xml;
  EXPECT_NE(xml->find(R"(<testsuite name="A-0" tests="2" failures="0" errors="0" skipped="1")"), std::string::npos)
      << *xml;
  EXPECT_NE(xml->find(R"(<testcase name="gemm #2" classname="p.A-0" time="2.000">)"), std::string::npos) << *xml;
  EXPECT_NE(xml->find("<system-out>marginal: tflops avg 0.88, &lt; marginal_min 0.9</system-out>"), std::string::npos);
  EXPECT_EQ(xml->find('\x01'), std::string::npos);
}

TEST(ReportCsv, FieldsWithCommasOrQuotesAreQuotedAsRfc4180Says) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a, b"), "\"a, b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  auto csv = render_report_csv(kMixed);
  ASSERT_TRUE(csv) << csv.error().message;
  EXPECT_NE(
      csv->find("\n9,p,1,A-0,r,0,s,inconclusive,gemm #2,3,marginal,,2,\"tflops avg 0.88, < marginal_min 0.9\",\n"),
      std::string::npos)
      << *csv;
}

TEST(ReportFormats, NotAReportIsAnErrorInEveryFormat) {
  for (const ReportFormat& format : report_formats()) {
    if (format.name == "json") continue;  // passed through as given
    EXPECT_FALSE(format.render("{\"chips\": 3}")) << format.name;
  }
}

}  // namespace
}  // namespace kiln::reports
