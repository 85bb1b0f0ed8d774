#include "device/sim/timing_margin.hpp"

#include <algorithm>
#include <cmath>

#include "device/number_format.hpp"

namespace kiln::device {

TimingMargin::TimingMargin(const Sku& sku, std::uint64_t silicon_seed, double offset_mhz)
    : max_clock_mhz_(sku.max_clock_mhz),
      nominal_mv_(sku.nominal_voltage_mv),
      throttle_c_(sku.throttle_c),
      offset_mhz_(offset_mhz) {
  SimRandom rng(silicon_seed);
  silicon_ = 1.0 + kSiliconSpread * (2.0 * rng.uniform01() - 1.0);
}

double TimingMargin::fmax_mhz(double voltage_mv, double die_c) const {
  const double vt = kThresholdFraction * nominal_mv_;
  const double overdrive = std::max(0.0, (voltage_mv - vt) / (nominal_mv_ - vt));
  const double thermal = 1.0 - kTempCoeffPerC * (die_c - throttle_c_);
  return max_clock_mhz_ * kHeadroom * overdrive * thermal * silicon_ + offset_mhz_;
}

double TimingMargin::failure_probability(double voltage_mv, double clock_mhz, double die_c) const {
  const double over = clock_mhz - fmax_mhz(voltage_mv, die_c);
  if (!(over > 0)) return 0.0;
  return std::min(1.0, over / kMarginRampMhz);
}

int TimingMargin::apply(double gemms, double voltage_mv, double clock_mhz, double die_c, SimRandom& rng,
                        const GemmTile* tile, std::vector<TileFlip>& flips) const {
  const double p = failure_probability(voltage_mv, clock_mhz, die_c);
  if (p <= 0 || gemms <= 0) return 0;
  const double slice_p = p >= 1.0 ? 1.0 : -std::expm1(gemms * std::log1p(-p));
  // Location draws happen whether or not a tile exists, so the stream does
  // not depend on verification.
  const bool hit = rng.uniform01() < slice_p;
  const std::uint64_t where = rng.next();
  const int bit = kMarginLowBit + static_cast<int>(rng.next() % (kMarginHighBit - kMarginLowBit + 1));
  if (!hit) return 0;
  if (tile != nullptr && !tile->c.empty()) {
    flips.push_back(TileFlip{static_cast<std::size_t>(where % tile->c.size()), bit});
  }
  return 1;
}

}  // namespace kiln::device
