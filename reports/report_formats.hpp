#pragma once
// The forms a run report can be printed in (`kiln report --format`, `kiln lab
// --format`). Each is rendered from the JSON report (DESIGN §6), so that no
// format can say something the report does not. A new format is one entry
// here and its renderer in reports/ (docs/extending.md, "Add a report format").

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "reports/report_sources.hpp"

namespace kiln::reports {

struct ReportFormat {
  std::string name;  // the --format value
  std::string help;
  // The JSON report → this format's text (the JSON format returns it as is).
  Result<std::string> (*render)(const std::string& report_json) = nullptr;
  // A format that also draws the run's telemetry (html) renders with this
  // where the caller can answer queries; `render` is its telemetry-less form.
  Result<std::string> (*render_with)(const std::string& report_json, const ReportSources& sources) = nullptr;
};

// The format's text: with `sources` where it draws telemetry and they are given.
Result<std::string> render_report(const ReportFormat& format, const std::string& report_json,
                                  const ReportSources* sources);

// Every format, the default ("text") first.
const std::vector<ReportFormat>& report_formats();
std::vector<std::string> report_format_names();
// nullptr for an unknown name.
const ReportFormat* find_report_format(std::string_view name);

}  // namespace kiln::reports
