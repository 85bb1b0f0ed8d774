#pragma once
// Internal to kiln_testplan: reads a plan's `steps:` list into phases. A
// step is {name, pattern, duration, params?, limits?}; a phase is one step
// or a `parallel:` group of at least two steps (groups do not nest).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "testplans/pattern_registry.hpp"
#include "testplans/plan.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::plan {

std::vector<Phase> read_steps(const yaml::Node& node, const PatternRegistry& registry, yaml::Diagnostics& diagnostics);

// Plan and step names: 1 to 64 of [a-z0-9_-], so that they are safe in file
// names, URLs and command lines.
bool is_valid_name(std::string_view name);
inline constexpr std::size_t kMaxNameLength = 64;

}  // namespace kiln::plan
