// Fuzz target: the test plan loader (testplans/loader.hpp) on any text,
// against the built-in pattern registry.
//
// Checked: a plan or diagnostics, never both and never neither; every
// diagnostic names file:line:col inside the text; loading is deterministic;
// a plan that loads is one kilnd can run and an agent will accept: at least
// one phase, each with steps; step names unique; every step's pattern
// registered, its params exactly the pattern's and each within its spec
// (check_params, what the agent asks), its recorded text the canonical text
// of those values, and the values the same after the trip to the agent
// (write_params, then read_params); every limit on a metric the step can
// produce, with finite bounds; the flat order numbered 0…n-1 across repeats.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "fuzz/yaml_checks.hpp"
#include "schema/kiln.pb.h"
#include "testplans/loader.hpp"
#include "testplans/param_wire.hpp"

namespace {

const kiln::plan::PatternRegistry& registry() { return kiln::plan::PatternRegistry::builtin(); }

void check_step(const kiln::plan::Step& step) {
  const kiln::plan::PatternSpec* pattern = registry().find(step.pattern);
  KILN_FUZZ_CHECK(pattern != nullptr, "step '{}' of unknown pattern '{}'", step.name, step.pattern);
  KILN_FUZZ_CHECK(step.duration.count() > 0 && std::isfinite(step.duration.count()), "step '{}' lasts {} s", step.name,
                  step.duration.count());
  const auto checked = kiln::plan::check_params(*pattern, step.values);
  KILN_FUZZ_CHECK(checked.ok(), "step '{}': the agent would refuse its params: {}", step.name,
                  checked.ok() ? "" : checked.error().message);
  KILN_FUZZ_CHECK(step.params == step.values.texts(), "step '{}': recorded params differ from its values", step.name);

  google::protobuf::Map<std::string, kiln::v1::ParamValue> wire;
  kiln::plan::write_params(step.values, wire);
  const auto read = kiln::plan::read_params(wire);
  KILN_FUZZ_CHECK(read.ok(), "step '{}': the agent cannot read its params: {}", step.name,
                  read.ok() ? "" : read.error().message);
  KILN_FUZZ_CHECK(read->texts() == step.params, "step '{}': params change on the wire", step.name);
  const auto reread = kiln::plan::check_params(*pattern, *read);
  KILN_FUZZ_CHECK(reread.ok(), "step '{}': the agent refuses what it was sent", step.name);

  for (const auto& limit : step.limits) {
    KILN_FUZZ_CHECK(registry().is_known_metric(*pattern, limit.metric), "step '{}': limit on unknown metric '{}'",
                    step.name, limit.metric);
    for (const auto& bound : {limit.min, limit.max, limit.marginal_min, limit.marginal_max}) {
      KILN_FUZZ_CHECK(!bound || std::isfinite(*bound), "step '{}': limit {} has a bound of {}", step.name, limit.metric,
                      *bound);
    }
    KILN_FUZZ_CHECK(limit.mark.line >= 1, "step '{}': limit {} without a line", step.name, limit.metric);
  }
}

void check_plan(const kiln::plan::Plan& plan, std::string_view text) {
  KILN_FUZZ_CHECK(plan.text == text, "the plan's text is not the file's");
  KILN_FUZZ_CHECK(!plan.name.empty(), "a plan without a name");
  KILN_FUZZ_CHECK(!plan.phases.empty(), "a plan without phases");
  KILN_FUZZ_CHECK(plan.repeat >= 1, "repeat {}", plan.repeat);
  KILN_FUZZ_CHECK(plan.sample_hz > 0 && std::isfinite(plan.sample_hz), "sample_hz {}", plan.sample_hz);
  std::set<std::string> names;
  std::size_t steps = 0;
  for (const auto& phase : plan.phases) {
    KILN_FUZZ_CHECK(!phase.steps.empty(), "a phase without steps");
    for (const auto& step : phase.steps) {
      KILN_FUZZ_CHECK(names.insert(step.name).second, "step name '{}' twice", step.name);
      KILN_FUZZ_CHECK(kiln::plan::find_step(plan, step.name) == &step, "find_step('{}') finds another", step.name);
      check_step(step);
      ++steps;
    }
  }
  const auto flat = kiln::plan::flatten(plan);
  KILN_FUZZ_CHECK(flat.size() == steps * plan.repeat, "{} flat steps for {} steps x {}", flat.size(), steps,
                  plan.repeat);
  for (std::size_t i = 0; i < flat.size(); ++i) {
    KILN_FUZZ_CHECK(flat[i].step_index == i, "flat step {} numbered {}", i, flat[i].step_index);
    KILN_FUZZ_CHECK(i == 0 || flat[i].phase_index >= flat[i - 1].phase_index, "phases out of order at {}", i);
  }
  KILN_FUZZ_CHECK(kiln::plan::total_duration(plan).count() > 0, "a plan of {} s",
                  kiln::plan::total_duration(plan).count());
}

std::string describe(const kiln::plan::LoadResult& result) {
  std::string out = result.plan ? "plan\n" : "no plan\n";
  for (const auto& d : result.diagnostics) out += d.to_string() + "\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kiln::fuzz::kMaxYamlInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kFile = "fuzz-plan.yaml";
  const auto result = kiln::plan::load_plan(text, kFile, registry());
  KILN_FUZZ_CHECK(result.plan.has_value() == result.diagnostics.empty(), "plan {} with {} diagnostics",
                  result.plan.has_value(), result.diagnostics.size());
  if (result.plan) {
    check_plan(*result.plan, text);
  } else {
    kiln::fuzz::check_diagnostics(result.diagnostics, kFile, text);
  }
  const auto again = kiln::plan::load_plan(text, kFile, registry());
  KILN_FUZZ_CHECK(describe(again) == describe(result), "a second load differs:\n{}---\n{}", describe(result),
                  describe(again));
  return 0;
}
