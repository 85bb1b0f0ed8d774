// idle: no load (cool-down, idle power, leakage). The step only observes:
// it takes no share of the chip, whose telemetry StepRunner samples.
#include "agents/patterns/builtin_patterns.hpp"

namespace kiln::agent {
namespace {

class IdlePattern final : public Pattern {
 public:
  std::optional<Skip> init(const device::Telemetry&) override { return std::nullopt; }
  bool uses_chip() const override { return false; }
  std::optional<Skip> run(Seconds, Seconds) override { return std::nullopt; }
  void observe(const Moment&, Seconds, const device::Telemetry&, MetricValues&) override {}
  void finish(StepEnd&, kiln::v1::ChipStepResult&) override {}
};

}  // namespace

std::unique_ptr<Pattern> make_idle_pattern(PatternEnv&, const plan::ParamSet&) {
  return std::make_unique<IdlePattern>();
}

}  // namespace kiln::agent
