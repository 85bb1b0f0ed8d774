#pragma once
// First-order thermal model of one chip: the die is a thermal capacitance C
// behind a resistance R to ambient, so under constant power P
//   dT/dt = (ambient + P·R − T) / (R·C),
// which a slice integrates exactly: T ← T_ss + (T − T_ss)·exp(−dt/τ), τ = R·C.
// Exact integration makes the result independent of how time is sliced
// (for constant power) and stable for any dt. HBM sits beside the die on
// the interposer: it follows a fraction of the die's rise with a slower
// time constant.

#include "core/units.hpp"
#include "device/sku.hpp"

namespace kiln::device {

// HBM steady-state rise as a share of the die's rise above ambient.
inline constexpr double kHbmCoupling = 0.85;
// HBM time constant as a multiple of the die's.
inline constexpr double kHbmLag = 1.5;

class ThermalModel {
 public:
  // r_th_factor > 1 models degraded cooling (the `cooling` fault).
  ThermalModel(const Sku& sku, double ambient_c, double r_th_factor = 1.0);

  // `power_w` dissipated for `dt`, held constant over the slice.
  void advance(double power_w, Seconds dt);

  double die_c() const { return die_c_; }
  double hbm_c() const { return hbm_c_; }
  double ambient_c() const { return ambient_c_; }
  double resistance_c_per_w() const { return r_th_; }
  double tau_s() const { return tau_s_; }
  // Where the die settles under constant `power_w`.
  double steady_state_c(double power_w) const { return ambient_c_ + power_w * r_th_; }

 private:
  double ambient_c_;
  double r_th_;
  double tau_s_;
  double die_c_;
  double hbm_c_;
};

}  // namespace kiln::device
