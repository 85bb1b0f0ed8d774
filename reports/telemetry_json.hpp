#pragma once
// `kiln telemetry RUN --format json`: the run's stored samples as one object
// per series (serial, step, metric), its times and values as parallel
// columns — compact, and what a notebook turns into a frame in one line.
//   {"run": 1, "series": [{"serial": "TRN-0205", "step_index": 0,
//     "step": "gemm-bf16", "metric": "temperature_c", "unit": "°C",
//     "t_s": [0.1, 0.2], "values": [25.3, null]}]}
// t_s is chip seconds since the step began; null is a value the backend
// could not read (never 0). Built from the typed TELEMETRY answer and the
// run's plan (for the steps' labels), so a daemon and --db print the same.

#include <string>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::reports {

std::string telemetry_json(const kiln::v1::TelemetrySeries& telemetry, const kiln::v1::RunPlan& plan);

}  // namespace kiln::reports
