#pragma once
// The power pattern's load controller. The backend has no power knob, only
// work, and a chip reports the power of its last slice; so each tick the
// step either computes or idles for its whole share, and the share of
// loaded ticks (the duty) is what the controller sets. It measures the power
// of a loaded and of an idle tick and takes the duty that mixes the two into
// the target; a sigma-delta accumulator spreads loaded ticks evenly. The
// step's power_w therefore alternates between the two levels and its
// average over the step meets the target.
//
// With pulse_hz > 0 the target is a square wave between idle and target_w,
// high in the first half of each period; a tick that spans both halves
// (pulses faster than the sample rate) loads with the wave's average over it.

#include <optional>

namespace kiln::agent {

class PowerControl {
 public:
  // `idle_w`: the SKU's idle power, the first guess for an idle tick.
  PowerControl(double target_w, double pulse_hz, double idle_w);

  double target_w() const { return target_w_; }
  double duty() const { return duty_; }
  // Share of the wave's high half within step time [t0_s, t0_s + tick_s).
  double high_fraction(double t0_s, double tick_s) const;
  // Whether the tick starting at t0_s computes. Call once per tick.
  bool next_tick_loaded(double t0_s, double tick_s);
  // After the tick: what the chip drew, loaded or not.
  void update(bool loaded, double power_w);

 private:
  double high_time(double t_s) const;  // time spent high in [0, t_s)

  double target_w_;
  double pulse_hz_;
  double idle_w_;
  std::optional<double> loaded_w_;  // unknown until a loaded tick is measured
  double duty_ = 1.0;               // start at full load: heating up is the slow part
  double accumulator_ = 0;
};

}  // namespace kiln::agent
