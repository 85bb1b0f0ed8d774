#pragma once
// The report's reproduce line: the command that replays a run on the same
// racks with the same randomness. It names the plan by the path it was
// submitted with (`testplans/standard.yaml`, `../plans/x.yaml`) so the line
// can be pasted where it was submitted; where that path is not known, by the
// plan's name, with a word that it is only the name.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace kiln::reports {

struct RunToReproduce {
  std::string plan_path;  // as the user gave it; empty: not known
  std::string plan_name;
  std::uint64_t seed = 0;
  std::vector<std::string> racks;
  std::string plan_sha256;
};

std::string reproduce_command(const RunToReproduce& run);

// A report (DESIGN §6 JSON) with `run.plan_path` set and its `reproduce`
// line naming that path: for the client that submitted the plan and so knows
// the path it was given (`kiln lab`, `kiln run submit --wait`). An empty
// path leaves the report as it is.
Result<std::string> with_plan_path(const std::string& report_json, const std::string& plan_path);

}  // namespace kiln::reports
