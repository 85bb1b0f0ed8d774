#pragma once
// Thermal throttling: the clock a chip's firmware allows at its current die
// temperature. Above throttle_c the clock steps down by kThrottleStep each
// slice, to at most kMaxThrottleSteps steps; once the die is kHysteresisC
// below throttle_c it steps back up one step per slice. The gap between
// the two thresholds keeps the clock from chattering at the limit.

#include "device/sku.hpp"

namespace kiln::device {

inline constexpr double kThrottleStep = 0.85;  // clock × 0.85 per step
inline constexpr int kMaxThrottleSteps = 8;    // floor: 0.85^8 ≈ 27% of max clock
inline constexpr double kHysteresisC = 5.0;

class ClockGovernor {
 public:
  explicit ClockGovernor(const Sku& sku);

  // Called once per slice with the die temperature at its end.
  void update(double die_c);
  // The clock asked for when not throttled (a shmoo point); max clock by
  // default. Throttle steps apply below it.
  void set_target_clock(double mhz);
  double target_clock_mhz() const { return target_mhz_; }

  double clock_mhz() const { return clock_mhz_; }
  bool throttled() const { return steps_ > 0; }
  int steps() const { return steps_; }

 private:
  double target_mhz_;
  double throttle_c_;
  int steps_ = 0;
  double clock_mhz_;
};

}  // namespace kiln::device
