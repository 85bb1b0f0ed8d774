#pragma once
// The typed answers to reading requests (docs/protocol.md, "typed query
// replies"), for programs that consume them: built from a read-only store
// connection, like the JSON and CSV of reports/queries.hpp. kilnd adds what
// only it knows (a live run's progress) at its edge.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"

namespace kiln::reports {

// The run's id, plan and status as stored; `live` unset.
Result<kiln::v1::RunProgress> run_progress(store::Reader& reader, std::uint64_t run_id);
// The run's telemetry as one series per (serial, step, metric), in the
// store's order; empty serial/metric = all, and `windows` as telemetry_csv.
Result<kiln::v1::TelemetrySeries> telemetry_series(store::Reader& reader, std::uint64_t run_id,
                                                   const std::string& serial, const std::string& metric,
                                                   const std::vector<store::TelemetryWindow>& windows = {});
// The run's steps with their typed limits (from the stored steps, not by
// reading the plan's YAML again). A limit `of: peak` names the peak figure
// it scales, as the metric catalog declares it.
Result<kiln::v1::RunPlan> run_plan(store::Reader& reader, std::uint64_t run_id);

}  // namespace kiln::reports
