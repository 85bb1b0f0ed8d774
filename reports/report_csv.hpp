#pragma once
// A run report as CSV for spreadsheets and scripts: one row per chip and
// step, RFC 4180 quoting. Columns:
//   run,plan,seed,serial,rack,slot,sku,chip_verdict,step,step_index,
//   step_verdict,completed,ran_s,reason,failures
// `step` is the step's label (`gemm-bf16 #2`); `failures` lists that
// step's failures as "class at location" separated by "; ". Rendered from
// the JSON report (DESIGN §6).

#include <string>

#include "core/result.hpp"

namespace kiln::reports {

Result<std::string> render_report_csv(const std::string& report_json);

// One CSV field: quoted (with doubled quotes) when it holds a comma, a
// quote, a CR or an LF, or starts or ends with a space.
std::string csv_field(const std::string& value);

}  // namespace kiln::reports
