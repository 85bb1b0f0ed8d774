#pragma once
// The forms a run report can be printed in (`kiln report --format`, `kiln lab
// --format`). Each is rendered from the JSON report (DESIGN §6), so that no
// format can say something the report does not. A new format is one entry
// here and its renderer in reports/ (docs/extending.md, "Add a report format").

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace kiln::reports {

struct ReportFormat {
  std::string name;  // the --format value
  std::string help;
  // The JSON report → this format's text (the JSON format returns it as is).
  Result<std::string> (*render)(const std::string& report_json) = nullptr;
};

// Every format, the default ("text") first.
const std::vector<ReportFormat>& report_formats();
std::vector<std::string> report_format_names();
// nullptr for an unknown name.
const ReportFormat* find_report_format(std::string_view name);

}  // namespace kiln::reports
