#include "device/sim/clock_governor.hpp"

#include <cmath>

namespace kiln::device {

ClockGovernor::ClockGovernor(const Sku& sku)
    : target_mhz_(sku.max_clock_mhz), throttle_c_(sku.throttle_c), clock_mhz_(sku.max_clock_mhz) {}

void ClockGovernor::update(double die_c) {
  if (die_c > throttle_c_) {
    if (steps_ < kMaxThrottleSteps) ++steps_;
  } else if (steps_ > 0 && die_c < throttle_c_ - kHysteresisC) {
    --steps_;
  }
  clock_mhz_ = target_mhz_ * std::pow(kThrottleStep, steps_);
}

void ClockGovernor::set_target_clock(double mhz) {
  target_mhz_ = mhz;
  clock_mhz_ = target_mhz_ * std::pow(kThrottleStep, steps_);
}

}  // namespace kiln::device
