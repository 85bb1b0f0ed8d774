#pragma once
// Loads a test plan from YAML text with every rule of DESIGN §4: strict
// types, unknown and duplicate keys, no anchors or aliases, 1 MiB cap,
// validation against the pattern registry. All errors at once, each as
// `file:line:col: message`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "testplans/pattern_registry.hpp"
#include "testplans/plan.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::plan {

struct LoadResult {
  std::optional<Plan> plan;  // set only when diagnostics is empty
  std::vector<yaml::Diagnostic> diagnostics;
};

LoadResult load_plan(std::string_view text, std::string_view file, const PatternRegistry& registry);
// Reads the file first (refusing files over 1 MiB before reading them whole).
LoadResult load_plan_file(const std::string& path, const PatternRegistry& registry);

}  // namespace kiln::plan
