#pragma once
// A loaded, validated test plan (DESIGN §4). Immutable once loaded: nothing
// re-reads YAML later. Parameters are kept typed, with every default filled
// in, and as their canonical text (what was actually used is what gets recorded).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.hpp"
#include "testplans/param_value.hpp"
#include "yaml/strict_yaml.hpp"

namespace kiln::plan {

enum class LimitBase { absolute, peak, peers, baseline };
const char* to_string(LimitBase base);

// `metric: {min: 0.85, of: peak, marginal_min: 0.9}`. With `of` other than
// absolute, bounds are fractions of the base value.
struct Limit {
  std::string metric;
  std::optional<double> min, max, marginal_min, marginal_max;
  LimitBase of = LimitBase::absolute;
  yaml::Mark mark;
};

struct Step {
  std::string name;
  std::string pattern;
  Seconds duration{0};
  ParamSet values;                            // effective: every declared param, typed (what runs send)
  std::map<std::string, std::string> params;  // the same as canonical text (what runs record)
  std::vector<std::string> params_given;      // those the plan set (in file order); the rest are defaults
  std::vector<Limit> limits;
  yaml::Mark mark;
};

// One step, or the steps of a `parallel:` group, started together.
struct Phase {
  std::vector<Step> steps;
};

struct Targets {
  bool all_racks = true;
  std::vector<std::string> racks;  // when !all_racks
  std::optional<std::string> sku;  // only chips of this SKU
};

struct Plan {
  std::string name;
  std::string description;
  std::optional<std::uint64_t> seed;  // absent: the daemon draws one and records it
  Targets targets;
  double sample_hz = 10;
  std::vector<Phase> phases;
  std::uint32_t repeat = 1;
  std::string text;         // verbatim source
  std::string source_path;  // as given, for messages
};

// Steps in execution order: repeat × phases × steps of the phase.
struct FlatStep {
  std::uint32_t step_index = 0;   // position in the flat order: unique across repeats
  std::uint32_t phase_index = 0;  // unique across repeats: phases run in this order
  std::uint32_t repeat_index = 0;
  const Step* step = nullptr;
};
std::vector<FlatStep> flatten(const Plan& plan);
Seconds total_duration(const Plan& plan);  // sum over phases (a phase lasts its longest step) × repeat
const Step* find_step(const Plan& plan, std::string_view name);  // nullptr when absent

// JSON text for storage and reports, keys sorted so equal steps give equal text.
// params: {"dtype":"bf16","k":"8192",…} (values are the canonical text).
// limits: {"tflops":{"marginal_min":0.9,"min":0.85,"of":"peak"},…}; absent
// bounds are left out, "of" is always there ("absolute" when not given).
std::string params_to_json(const Step& step);
std::string limits_to_json(const Step& step);

}  // namespace kiln::plan
