#pragma once
// The human form of a run report: a verdict table, then each failure with
// its location and conditions, then how to reproduce the run. Rendered from
// the JSON report (DESIGN §6) so the two can never disagree.

#include <string>

#include "core/result.hpp"

namespace kiln::reports {

Result<std::string> render_report_text(const std::string& report_json);

}  // namespace kiln::reports
