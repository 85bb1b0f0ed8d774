// power: holds the chip at a power target, steady or pulsed, by computing
// or idling whole ticks (power_control.hpp).
#include <fmt/format.h>

#include "agents/patterns/builtin_patterns.hpp"
#include "agents/power_control.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

class PowerPattern final : public Pattern {
 public:
  PowerPattern(PatternEnv& env, const plan::ParamSet& params)
      : env_(env), target_w_(params.number("target_w")), pulse_hz_(params.number("pulse_hz")) {
    // Plain multiplies of the gemm default: the load, not the results, matters.
    work_.functional = false;
  }

  std::optional<Skip> init(const device::Telemetry&) override {
    const double target = target_w_ > 0 ? target_w_ : env_.chip.sku().tdp_w;
    if (!(target > 0)) {
      return Skip{fmt::format("target_w: 0 means TDP, and SKU {} declares none", env_.chip.sku().name), false};
    }
    control_.emplace(target, pulse_hz_, env_.chip.sku().idle_w);
    return std::nullopt;
  }

  std::optional<Skip> run(Seconds share, Seconds tick) override {
    loaded_ = control_->next_tick_loaded(env_.elapsed_s, tick.count());
    if (loaded_) {
      tick_flops_ += env_.chip.run_gemm(work_, share).flops;
    } else {
      env_.chip.idle(share);
    }
    return std::nullopt;
  }

  void observe(const Moment&, Seconds tick, const device::Telemetry& telemetry, MetricValues& values) override {
    if (telemetry.power_w) control_->update(loaded_, *telemetry.power_w);
    if (tick.count() > 0) values.push_back({metrics::kTflops.value, tick_flops_ / tick.count() / 1e12});
    tick_flops_ = 0;
  }

  void finish(StepEnd&, kiln::v1::ChipStepResult&) override {}

 private:
  PatternEnv& env_;
  double target_w_;
  double pulse_hz_;
  device::GemmWork work_;
  std::optional<PowerControl> control_;
  bool loaded_ = false;  // this tick computed
  double tick_flops_ = 0;
};

}  // namespace

std::unique_ptr<Pattern> make_power_pattern(PatternEnv& env, const plan::ParamSet& params) {
  return std::make_unique<PowerPattern>(env, params);
}

}  // namespace kiln::agent
