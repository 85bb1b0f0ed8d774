#pragma once
// The human form of a run report: a verdict table (a column per step, named
// by its label: `gemm-bf16 #2`), then the findings — each failure once with
// its location and conditions, marginal steps per chip, and what could not be
// judged folded into one line per cause (reports/cause_lines.hpp) — then how
// to reproduce the run. Rendered from the JSON report (DESIGN §6) so the two
// can never disagree.

#include <string>

#include "core/result.hpp"

namespace kiln::reports {

Result<std::string> render_report_text(const std::string& report_json);

}  // namespace kiln::reports
