#pragma once
// The injected faults of one simulated chip (DESIGN §3) and the state they
// keep during a run. Who applies each kind:
//   sdc           flips the fault's bit in the verification tile (below)
//   margin        fmax offset, applied by TimingMargin (timing_margin.hpp)
//   slow          throughput × factor            cooling  R_th × r_th_factor
//   hbm_ce        a Poisson process at rate_per_hour counts into telemetry hbm_ce
//   hbm_ue        telemetry hbm_ue becomes 1 at `after`
//   hbm_stuck     a stuck data line in HbmModel (hbm_model.hpp)
//   link_crc      bit errors at this chip's receiver on the link (SimFabric)
//   link_degraded the link's bandwidth × factor, both directions (SimFabric)
//   link_down     the link stops at `after`: telemetry link{i}_up = 0, collectives through it stall
//   hang          the chip stops making progress at `after`

#include <cstdint>
#include <optional>
#include <vector>

#include "core/units.hpp"
#include "device/chip.hpp"
#include "device/gemm_tile.hpp"
#include "device/lab.hpp"
#include "device/sim_random.hpp"

namespace kiln::device {

class SimFaultState {
 public:
  explicit SimFaultState(std::vector<Fault> faults);

  // A new run: counters restart, the random streams are reseeded.
  void start_run(std::uint64_t sdc_seed, std::uint64_t hbm_seed);

  double slow_factor() const { return slow_factor_; }
  double r_th_factor() const { return r_th_factor_; }

  // sdc faults for a slice that completed `gemms` full-size GEMMs at
  // `die_c` and `clock_mhz`. While its gates hold, each GEMM corrupts
  // independently with probability `rate`, so the slice's tile (which stands
  // for all of them) is corrupted with probability 1 − (1 − rate)^gemms: then
  // the element PE (row, col) of `core` computed gets `bit` flipped.
  // `tile` (only its shape is read) may be null (no verification this
  // slice); the draw happens anyway so the stream does not depend on
  // verification. Where a tile is given, each event's element and bit is
  // appended to `flips`. Returns the number of corruption events.
  int apply_sdc(double gemms, double die_c, double clock_mhz, const GemmTile* tile, std::vector<TileFlip>& flips);

  // Chip time moved on to `now` (since the run's start).
  void advance_to(Seconds now);

  bool hang_due(Seconds now) const;
  bool link_up(int link, Seconds now) const;
  // When `link` goes down (link_down's `after`), or nullopt.
  std::optional<Seconds> link_down_after(int link) const;
  // Product of the link_degraded factors on `link` (1 = full width).
  double link_bandwidth_factor(int link) const;
  // Bit error rate at this chip's receiver on `link` (link_crc faults combined).
  double link_ber(int link) const;
  // Sum of the margin faults' fmax offsets.
  double fmax_offset_mhz() const;
  const std::vector<Fault>& faults() const { return faults_; }
  double hbm_ce() const { return static_cast<double>(hbm_ce_); }
  double hbm_ue() const { return static_cast<double>(hbm_ue_); }
  // Per (stack, channel) of the hbm_ce / hbm_ue faults that have counted.
  std::vector<MemoryErrorSite> hbm_error_sites() const;

 private:
  std::vector<Fault> faults_;
  double slow_factor_ = 1.0;
  double r_th_factor_ = 1.0;
  SimRandom sdc_rng_;
  std::vector<SimRandom> ce_rng_;  // per fault, so that faults do not share draws
  std::vector<double> next_ce_s_;  // per fault: time of the next correctable error (hbm_ce only)
  std::uint64_t hbm_ce_ = 0;
  std::uint64_t hbm_ue_ = 0;
  std::vector<std::uint64_t> count_;  // per fault: errors it produced this run (hbm_ce / hbm_ue)
};

}  // namespace kiln::device
