#pragma once
// Internal to kiln_testplan: reads a step's `limits:` mapping,
// metric → {min, max, marginal_min, marginal_max, of}.

#include <string>
#include <vector>

#include "testplans/pattern_registry.hpp"
#include "testplans/plan.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::plan {

// With `of`, bounds are fractions of the base value in (0, kMaxLimitFraction].
inline constexpr double kMaxLimitFraction = 10;

// `pattern` is null when the step named an unknown pattern: the limits'
// shape is still checked, their metric names are not.
std::vector<Limit> read_limits(const yaml::Node& node, const PatternSpec* pattern, const PatternRegistry& registry,
                               yaml::Diagnostics& diagnostics, const std::string& path);

}  // namespace kiln::plan
