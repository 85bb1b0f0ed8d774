#include "device/sim/thermal_model.hpp"

#include <cmath>

namespace kiln::device {

ThermalModel::ThermalModel(const Sku& sku, double ambient_c, double r_th_factor)
    : ambient_c_(ambient_c),
      r_th_(sku.thermal_resistance_c_per_w * r_th_factor),
      tau_s_(r_th_ * sku.thermal_capacitance_j_per_c),
      die_c_(ambient_c),
      hbm_c_(ambient_c) {}

void ThermalModel::advance(double power_w, Seconds dt) {
  const double t = dt.count();
  if (t <= 0) return;
  const double die_target = steady_state_c(power_w);
  die_c_ = die_target + (die_c_ - die_target) * std::exp(-t / tau_s_);
  // The HBM chases the die's new temperature: a lag, not an exact solution
  // of the coupled pair, which is all a first model needs.
  const double hbm_target = ambient_c_ + kHbmCoupling * (die_c_ - ambient_c_);
  hbm_c_ = hbm_target + (hbm_c_ - hbm_target) * std::exp(-t / (kHbmLag * tau_s_));
}

}  // namespace kiln::device
