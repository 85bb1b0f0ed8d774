#pragma once
// Timing margin: the highest clock fmax(V, T) at which a chip's slowest
// paths still settle, and the silent corruption it produces above it.
//
//   fmax(V, T) = max_clock × kHeadroom × (V − Vt) / (Vnom − Vt)
//                × (1 − kTempCoeffPerC × (T − throttle_c)) × silicon + offset
//
// Gate delay falls roughly linearly with overdrive V − Vt near nominal
// voltage (the alpha-power law with alpha ≈ 1 for short-channel devices)
// and rises with temperature (mobility). `silicon` is this die's process
// corner, a few percent either way, fixed by (lab seed, serial) like a real
// part's bin; `offset` is the `margin` fault. A healthy chip at stock
// voltage keeps ≥ 2.5% margin at max clock up to its critical temperature.

#include <cstdint>
#include <vector>

#include "device/chip.hpp"
#include "device/gemm_tile.hpp"
#include "device/sim_random.hpp"
#include "device/sku.hpp"

namespace kiln::device {

inline constexpr double kHeadroom = 1.06;          // fmax / max clock at Vnom, throttle_c, typical silicon
inline constexpr double kThresholdFraction = 0.4;  // Vt as a share of Vnom
inline constexpr double kTempCoeffPerC = 0.0008;   // fmax loss per °C
inline constexpr double kSiliconSpread = 0.02;     // process corner: ±2% uniform
// Past fmax every GEMM fails with probability (f − fmax) / kMarginRampMhz
// (capped at 1): a few MHz over is occasional corruption, 100 MHz over is
// corruption every GEMM.
inline constexpr double kMarginRampMhz = 100.0;
// Timing failures land in the upper bits: the longest carry chains end there.
inline constexpr int kMarginLowBit = 16;
inline constexpr int kMarginHighBit = 30;

class TimingMargin {
 public:
  // `silicon_seed` derives from (lab seed, serial) only: the corner belongs
  // to the die, not to a run.
  TimingMargin(const Sku& sku, std::uint64_t silicon_seed, double offset_mhz);

  double fmax_mhz(double voltage_mv, double die_c) const;
  double silicon_factor() const { return silicon_; }

  // Probability that one GEMM at this point is corrupted (0 below fmax).
  double failure_probability(double voltage_mv, double clock_mhz, double die_c) const;

  // A slice of `gemms` GEMMs at this point: corrupted with probability
  // 1 − (1 − p)^gemms; then one element of `tile` (if any; only its shape
  // is read) computed by a random PE gets a random upper bit flipped,
  // appended to `flips`. Draws from `rng` only above fmax, so a chip inside
  // its margin keeps its streams untouched. Returns the number of
  // corruption events (0 or 1).
  int apply(double gemms, double voltage_mv, double clock_mhz, double die_c, SimRandom& rng, const GemmTile* tile,
            std::vector<TileFlip>& flips) const;

 private:
  double max_clock_mhz_;
  double nominal_mv_;
  double throttle_c_;
  double silicon_;
  double offset_mhz_;
};

}  // namespace kiln::device
