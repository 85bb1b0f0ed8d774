#pragma once
// Internal to kiln_testplan: validates a step's `params:` against its
// pattern's ParamSpecs and returns the effective params (defaults overlaid
// with the given values), typed. Bounds are checked by check_param(), the
// same function the agent uses on what it receives.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "testplans/param_value.hpp"
#include "testplans/pattern_registry.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::plan {

struct ReadParams {
  ParamSet effective;
  std::vector<std::string> given;  // names set by the plan, in file order
};

// `node` may be null (no params: every default). `path` prefixes messages,
// e.g. "steps[0].params".
ReadParams read_params(const yaml::Node* node, const PatternSpec& pattern, yaml::Diagnostics& diagnostics,
                       const std::string& path);

// Reads one value as `spec` says; nullopt (with a diagnostic) when invalid.
std::optional<ParamValue> read_param_value(const yaml::Node& value, const ParamSpec& spec,
                                           yaml::Diagnostics& diagnostics, const std::string& what);

}  // namespace kiln::plan
