#include "reports/report_formats.hpp"

#include "reports/report_csv.hpp"
#include "reports/report_html.hpp"
#include "reports/report_junit.hpp"
#include "reports/report_text.hpp"

namespace kiln::reports {
namespace {

Result<std::string> as_json(const std::string& report_json) {
  std::string out = report_json;
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

}  // namespace

const std::vector<ReportFormat>& report_formats() {
  static const std::vector<ReportFormat> formats{
      {"text", "verdict table, failures with location and conditions, how to reproduce", &render_report_text},
      {"json", "the JSON report of docs/design.md §6", &as_json},
      {"junit", "JUnit XML for CI: a testsuite per chip, a testcase per step", &render_report_junit},
      {"csv", "a row per chip and step: verdict, reason, failures with their location", &render_report_csv},
      {"html",
       "one self-contained page: verdict matrix, failures, failing chips' telemetry charts, shmoo maps, link heatmaps",
       &render_report_html, &render_report_html_with},
  };
  return formats;
}

Result<std::string> render_report(const ReportFormat& format, const std::string& report_json,
                                  const ReportSources* sources) {
  if (format.render_with != nullptr && sources != nullptr) return format.render_with(report_json, *sources);
  return format.render(report_json);
}

std::vector<std::string> report_format_names() {
  std::vector<std::string> names;
  for (const ReportFormat& f : report_formats()) names.push_back(f.name);
  return names;
}

const ReportFormat* find_report_format(std::string_view name) {
  for (const ReportFormat& f : report_formats()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace kiln::reports
