#include "agents/power_control.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::agent {

PowerControl::PowerControl(double target_w, double pulse_hz, double idle_w)
    : target_w_(target_w), pulse_hz_(pulse_hz), idle_w_(idle_w) {}

double PowerControl::high_time(double t_s) const {
  const double cycles = t_s * pulse_hz_;
  const double whole = std::floor(cycles);
  return (whole * 0.5 + std::min(cycles - whole, 0.5)) / pulse_hz_;
}

double PowerControl::high_fraction(double t0_s, double tick_s) const {
  if (pulse_hz_ <= 0) return 1.0;
  if (tick_s <= 0) return high_time(t0_s + 1e-12) > high_time(t0_s) ? 1.0 : 0.0;
  return std::clamp((high_time(t0_s + tick_s) - high_time(t0_s)) / tick_s, 0.0, 1.0);
}

bool PowerControl::next_tick_loaded(double t0_s, double tick_s) {
  const double high = high_fraction(t0_s, tick_s);
  // A tick that only grazes the high half (rounding at the edge) is low:
  // the accumulator's remainder must not spill a load into the low half.
  if (high < 1e-6) return false;
  accumulator_ += duty_ * high;
  if (accumulator_ < 1.0) return false;
  accumulator_ -= 1.0;
  return true;
}

void PowerControl::update(bool loaded, double power_w) {
  if (!std::isfinite(power_w)) return;
  // Both levels drift (temperature, throttling): the latest reading wins.
  if (loaded)
    loaded_w_ = power_w;
  else
    idle_w_ = power_w;
  if (!loaded_w_) return;
  const double span = *loaded_w_ - idle_w_;
  duty_ = span > 0 ? std::clamp((target_w_ - idle_w_) / span, 0.0, 1.0) : 1.0;
}

}  // namespace kiln::agent
