#pragma once
// `kiln report RUN --format html`: one self-contained page (docs/cli.md) with
// the verdict matrix, the failures, the reproduce line, each failing chip's
// telemetry charts with its limits, shmoo maps and each rack's link heatmap.
// Rendered from the JSON report (DESIGN §6) plus, for the charts, the run's
// plan and its telemetry rolled up (reports/telemetry_rollup.hpp).

#include <string>

#include "core/result.hpp"
#include "reports/report_sources.hpp"

namespace kiln::reports {

// The page with charts drawn from `sources`.
Result<std::string> render_report_html_with(const std::string& report_json, const ReportSources& sources);
// The page from the JSON report alone: the charts section says telemetry was
// not at hand.
Result<std::string> render_report_html(const std::string& report_json);

}  // namespace kiln::reports
