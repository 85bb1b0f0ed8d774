#pragma once
// What a report format that draws telemetry (html) asks for besides the JSON
// report: typed query answers and the run's plan (its steps' durations and
// limits). The CLI gives a daemon's or a database file's answers here, so the
// same page comes from either.

#include <cstdint>
#include <functional>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::reports {

struct ReportSources {
  std::function<Result<kiln::v1::QueryReply>(const kiln::v1::Query&)> query;
  std::function<Result<kiln::v1::RunPlan>(std::uint64_t run_id)> plan;
};

}  // namespace kiln::reports
