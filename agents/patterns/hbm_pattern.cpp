// hbm: memory bandwidth and march tests over a fraction of HBM. Each
// mismatching bit is a memory_pattern detection at its (stack, channel, bit).
#include <algorithm>
#include <map>
#include <tuple>

#include "agents/patterns/builtin_patterns.hpp"
#include "agents/patterns/own_value.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

class HbmPattern final : public Pattern {
 public:
  HbmPattern(PatternEnv& env, const plan::ParamSet& params) : env_(env) {
    // The registry's choices are the device's patterns, so this always reads.
    work_.pattern =
        device::parse_memory_pattern(params.choice("test")).value_or(device::MemoryPattern::moving_inversions);
    work_.fraction = params.number("fraction");
  }

  std::optional<Skip> init(const device::Telemetry&) override {
    env_.summaries.add(metrics::kMemoryErrors, static_cast<double>(env_.state.memory_errors));
    return std::nullopt;
  }

  std::optional<Skip> run(Seconds share, Seconds) override {
    auto slice = env_.chip.run_memory(work_, share);
    if (!slice) {
      // The chip did not spend the time; idle it so that every step of the
      // phase still sees the same chip clock.
      env_.chip.idle(share);
      return Skip{slice.error().message, slice.error().code == ErrorCode::unavailable};
    }
    tick_bytes_ += slice->bytes;
    tick_errors_ += slice->mismatch_count;
    tick_mismatches_.insert(tick_mismatches_.end(), slice->mismatches.begin(), slice->mismatches.end());
    return std::nullopt;
  }

  void observe(const Moment& at, Seconds tick, const device::Telemetry&, MetricValues& values) override {
    // Each listed mismatch is a distinct (stack, channel, bit, address); a
    // detection is per (stack, channel, bit), counting its addresses.
    std::map<std::tuple<int, int, int>, std::uint64_t> by_location;
    for (const auto& m : tick_mismatches_) ++by_location[{m.stack, m.channel, m.bit}];
    for (const auto& [where, count] : by_location) {
      const auto [stack, channel, bit] = where;
      // A host has no stack or channel (-1): its bit is the location.
      Location location;
      if (stack >= 0) location.emplace_back("stack", stack);
      if (channel >= 0) location.emplace_back("channel", channel);
      location.emplace_back("bit", bit);
      env_.detections.record({metrics::FailureClass::memory_pattern, kiln::v1::DETECTION_CORRUPTION},
                             metrics::kMemoryErrors, location, count, at);
    }
    env_.state.memory_errors += tick_errors_;
    if (tick.count() > 0) put_own(values, metrics::kHbmGbps, tick_bytes_ / tick.count() / 1e9);
    values.push_back({metrics::kMemoryErrors.value, static_cast<double>(env_.state.memory_errors)});
    tick_bytes_ = 0;
    tick_errors_ = 0;
    tick_mismatches_.clear();
  }

  void finish(StepEnd&, kiln::v1::ChipStepResult&) override {}

 private:
  PatternEnv& env_;
  device::MemoryWork work_;
  double tick_bytes_ = 0;
  std::uint64_t tick_errors_ = 0;
  std::vector<device::MemoryMismatch> tick_mismatches_;
};

}  // namespace

std::unique_ptr<Pattern> make_hbm_pattern(PatternEnv& env, const plan::ParamSet& params) {
  return std::make_unique<HbmPattern>(env, params);
}

}  // namespace kiln::agent
