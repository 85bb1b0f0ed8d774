// The HTML report's pieces: escaping, the SVG chart's scales, the heatmap's
// colours, the roll-up's buckets, and the page as a whole being
// self-contained.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "reports/report_formats.hpp"
#include "reports/report_html.hpp"
#include "reports/report_html_chart.hpp"
#include "reports/report_html_heatmap.hpp"
#include "reports/report_html_page.hpp"
#include "reports/telemetry_rollup.hpp"

namespace kiln::reports {
namespace {

// A serial and a detail a hostile agent could have stored.
constexpr const char* kReport = R"({
 "run": {"id": 3, "plan": "p<script>", "status": "completed", "seed": 1, "lab": "l", "racks": ["r1"]},
 "chips": [
  {"serial": "X<img src=x onerror=alert(1)>", "rack": "r1", "slot": 0, "sku": "s", "verdict": "fail",
   "failures": [{"class": "sdc", "step": "gemm", "step_label": "gemm", "count": 4, "core": 1, "pe": [2, 3],
                 "bit": 7, "first_at": "T1", "last_at": "T2", "conditions": {"temperature_c": 71.5},
                 "detail": "a \"quoted\" & <tagged> detail"}],
   "steps": [{"name": "gemm", "label": "gemm", "verdict": "fail",
              "metrics": {"link0_gbps": {"min": 0, "avg": 50, "max": 60},
                          "link0_crc_errors": {"min": 0, "avg": 1, "max": 3},
                          "link0_up": {"min": 1, "avg": 1, "max": 1}}}]},
  {"serial": "B", "rack": "r1", "slot": 1, "sku": "s", "verdict": "pass", "failures": [],
   "steps": [{"name": "gemm", "label": "gemm", "verdict": "pass",
              "metrics": {"link0_gbps": {"min": 0, "avg": 100, "max": 110},
                          "link0_crc_errors": {"min": 0, "avg": 0, "max": 0}}}]}],
 "reproduce": "kiln run submit p.yaml --seed 1"})";

TEST(HtmlEscape, EscapesMarkupQuotesAndDropsControlCharacters) {
  EXPECT_EQ(html_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(html_escape(std::string("x\x01y\x7f\tz\n")), "xy\tz\n");
  EXPECT_EQ(html_escape("TRN-0205 °C"), "TRN-0205 °C");  // UTF-8 kept
}

TEST(HtmlReport, EveryStringFromTheDatabaseIsEscaped) {
  auto page = render_report_html(kReport);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->find("<img"), std::string::npos);
  EXPECT_EQ(page->find("<script"), std::string::npos);
  EXPECT_NE(page->find("X&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(page->find("a &quot;quoted&quot; &amp; &lt;tagged&gt; detail"), std::string::npos);
  EXPECT_NE(page->find("core 1 pe [2,3] bit 7"), std::string::npos);
  EXPECT_NE(page->find("kiln run submit p.yaml --seed 1"), std::string::npos);
}

TEST(HtmlReport, IsSelfContainedAndSaysWhenTelemetryWasNotAtHand) {
  auto page = render_report_html(kReport);
  ASSERT_TRUE(page);
  for (const char* external : {"http://", "https://", "src=\"", "href=", "<script", "@import", "url("}) {
    EXPECT_EQ(page->find(external), std::string::npos) << external;
  }
  EXPECT_EQ(page->rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page->find("Telemetry not at hand"), std::string::npos);
  EXPECT_NE(page->find("id=\"verdict-matrix\""), std::string::npos);
  EXPECT_NE(page->find("v-fail"), std::string::npos);
}

TEST(HtmlReport, IsInTheFormatsTableAndDrawsChartsFromItsSources) {
  const ReportFormat* html = find_report_format("html");
  ASSERT_NE(html, nullptr);
  ReportSources sources;
  sources.plan = [](std::uint64_t run_id) -> Result<kiln::v1::RunPlan> {
    kiln::v1::RunPlan plan;
    plan.set_run_id(run_id);
    auto* step = plan.add_steps();
    step->set_step_index(0);
    step->set_name("gemm");
    step->set_duration_s(10);
    auto* limit = step->add_limits();
    limit->set_metric("temperature_c");
    limit->set_max(95);
    return plan;
  };
  int asked = 0;
  sources.query = [&](const kiln::v1::Query& q) -> Result<kiln::v1::QueryReply> {
    ++asked;
    kiln::v1::QueryReply reply;
    if (q.metric() != "temperature_c") return reply;  // nothing stored
    auto* series = reply.mutable_telemetry()->add_series();
    series->set_serial(q.serial());
    series->set_metric("temperature_c");
    for (int i = 0; i < 100; ++i) {
      series->add_t_s(i * 0.1);
      series->add_values(60 + i * 0.1);
    }
    return reply;
  };
  auto page = render_report(*html, kReport, &sources);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_GT(asked, 0);
  // One chart (only temperature has samples), for the failing chip only, with its limit.
  std::size_t charts = 0;
  for (std::size_t at = page->find("<svg"); at != std::string::npos; at = page->find("<svg", at + 1)) ++charts;
  EXPECT_EQ(charts, 1u);
  EXPECT_NE(page->find("class=\"limit-fail\""), std::string::npos);
  EXPECT_NE(page->find("class=\"avg\""), std::string::npos);
}

TEST(SvgChartScale, MapsTheDomainOntoThePixelsUpwards) {
  const LinearScale y = value_scale(0, 100, 150, 20);
  EXPECT_LT(y(100), y(0));  // higher values are higher on the page
  EXPECT_NEAR(y(50), 85, 1e-9);
  EXPECT_GT(y(0), 20);
  EXPECT_LT(y(0), 150);  // padded inside the plot, not on its edge
  const LinearScale flat = value_scale(42, 42, 150, 20);
  EXPECT_NEAR(flat(42), 85, 1e-9);  // a flat line sits mid-chart
  EXPECT_LT(flat.d0, 42);
  EXPECT_GT(flat.d1, 42);
  const LinearScale zeros = value_scale(0, 0, 150, 20);
  EXPECT_GT(zeros.d0, -0.1);  // no negative error counts on the axis
  EXPECT_GE(zeros.d1, 1);
}

TEST(SvgChartScale, TicksAreRoundAndInside) {
  EXPECT_EQ(nice_ticks(0, 100, 6), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  const auto ticks = nice_ticks(23.4, 81.9, 5);
  ASSERT_FALSE(ticks.empty());
  for (double t : ticks) {
    EXPECT_GE(t, 23.4);
    EXPECT_LE(t, 81.9);
    EXPECT_NEAR(std::fmod(t, 10), 0, 1e-9) << t;
  }
}

TEST(SvgChart, GapsStayGapsAndTheTitleIsEscaped) {
  ChartInput chart;
  chart.title = "T<1>";
  chart.end_s = 4;
  chart.buckets = {{0, 1, 1, 2, 3, 5}, {1, 2, NAN, NAN, NAN, 0}, {2, 3, 1, 2, 3, 5}, {3, 4, 1, 2, 3, 5}};
  const std::string svg = svg_chart(chart);
  EXPECT_NE(svg.find("T&lt;1&gt;"), std::string::npos);
  std::size_t lines = 0;
  for (std::size_t at = svg.find("class=\"avg\""); at != std::string::npos; at = svg.find("class=\"avg\"", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);  // split at the empty bucket, never drawn through zero
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(HeatmapColours, BandwidthGoesRedToGreenAndErrorsDeepen) {
  EXPECT_EQ(bandwidth_colour(1.0), "#43a047");
  EXPECT_EQ(bandwidth_colour(0.0), "#e53935");
  EXPECT_EQ(bandwidth_colour(0.5), "#ffc107");
  EXPECT_EQ(bandwidth_colour(7.0), bandwidth_colour(1.0));  // clamped
  EXPECT_EQ(bandwidth_colour(NAN), "#ffffff");              // unavailable is not red
  EXPECT_EQ(error_colour(0), "#e8f5e9");
  EXPECT_NE(error_colour(1), error_colour(0));
  EXPECT_NE(error_colour(1000), error_colour(1));
  EXPECT_EQ(error_colour(1e9), error_colour(1e4));
}

TEST(Heatmap, ColoursEachLinkAgainstTheRacksBestAndMarksErrors) {
  const auto report = nlohmann::json::parse(kReport);
  const std::string heat = html_link_heatmaps(report["chips"]);
  EXPECT_NE(heat.find("rack r1"), std::string::npos);
  EXPECT_NE(heat.find("50.0 Gb/s"), std::string::npos);
  EXPECT_NE(heat.find(bandwidth_colour(0.5)), std::string::npos);  // half the best link
  EXPECT_NE(heat.find(bandwidth_colour(1.0)), std::string::npos);
  EXPECT_NE(heat.find("3 CRC"), std::string::npos);
  EXPECT_NE(heat.find("outline:3px solid"), std::string::npos);
}

TEST(TelemetryRollup, ReducesToMinAvgMaxPerBucketAndLeavesUnavailableOut) {
  std::vector<TimedValue> samples;
  for (int i = 0; i < 500; ++i) samples.push_back({i * 0.01, static_cast<double>(i % 10)});
  samples.push_back({5.0, NAN});
  const auto buckets = reduce_to_buckets(samples, 10, 200);
  ASSERT_EQ(buckets.size(), 200u);
  EXPECT_EQ(buckets[0].count, 5u);  // 0.00 … 0.04
  EXPECT_EQ(buckets[0].min, 0);
  EXPECT_EQ(buckets[0].max, 4);
  EXPECT_DOUBLE_EQ(buckets[0].avg, 2);
  EXPECT_EQ(buckets[150].count, 0u);  // after the samples end: a gap
  EXPECT_TRUE(std::isnan(buckets[150].avg));
}

TEST(TelemetryRollup, StepsStartWhereTheirPhaseStarts) {
  kiln::v1::RunPlan plan;
  auto add = [&](std::uint32_t index, std::uint32_t phase, double duration) {
    auto* s = plan.add_steps();
    s->set_step_index(index);
    s->set_phase_index(phase);
    s->set_duration_s(duration);
  };
  add(0, 0, 30);
  add(1, 1, 10);
  add(2, 1, 20);  // parallel with step 1: the phase lasts 20
  add(3, 2, 5);
  const auto starts = step_starts(plan);
  EXPECT_EQ(starts.at(1), 30);
  EXPECT_EQ(starts.at(2), 30);
  EXPECT_EQ(starts.at(3), 50);
  EXPECT_EQ(run_length_s(plan), 55);
}

}  // namespace
}  // namespace kiln::reports
