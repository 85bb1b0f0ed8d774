#pragma once
// A simulated accelerator: throughput, power, temperature and throttling
// from its SKU, a real verification GEMM every slice, and injected faults.
//
// The model advances only by the dt it is given, never by the wall clock,
// and all its randomness derives from (lab seed, serial, run seed), so the
// same inputs give bit-identical results at any time scale. Not thread-safe:
// one agent thread drives a chip.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"
#include "device/clock_governor.hpp"
#include "device/lab.hpp"
#include "device/sim_fault_state.hpp"
#include "device/sim_random.hpp"
#include "device/thermal_model.hpp"

namespace kiln::device {

struct SimChipConfig {
  ChipIdentity identity;
  Sku sku;
  std::vector<Fault> faults;
  std::uint64_t lab_seed = 0;
  double ambient_c = 25.0;
  int links = 0;  // chip_link_count() of its rack
};

class SimChip final : public Chip {
 public:
  explicit SimChip(SimChipConfig config);

  const ChipIdentity& identity() const override { return config_.identity; }
  const Sku& sku() const override { return config_.sku; }
  void start_run(std::uint64_t run_seed) override;
  Seconds now() const override { return now_; }
  GemmSlice run_gemm(const GemmWork& work, Seconds dt) override;
  void idle(Seconds dt) override;
  void recycle(GemmTile&& tile) override { spare_tile_ = std::move(tile); }
  Telemetry telemetry() const override;
  bool hung() const override { return hung_; }

  // Ground truth for harness self-tests: sdc corruption events injected
  // this run (a verifier that misses some has a bug).
  std::uint64_t injected_sdc_events() const { return injected_sdc_events_; }
  const ThermalModel& thermal() const { return thermal_; }

 private:
  void check_hang();
  void advance(double power_w, double utilization, Seconds dt);

  SimChipConfig config_;
  SimFaultState faults_;
  ThermalModel thermal_;
  ClockGovernor governor_;
  SimRandom tile_rng_;
  GemmTile spare_tile_;  // storage handed back by recycle()
  Seconds now_{0};
  double voltage_mv_;
  double power_w_;
  double utilization_ = 0;
  bool hung_ = false;
  std::uint64_t injected_sdc_events_ = 0;
};

// One SimChip per chip of a sim rack, in the rack's order. Fails when the
// rack is not a sim rack or names a SKU the catalog lacks.
Result<std::vector<std::unique_ptr<Chip>>> make_sim_chips(const Lab& lab, const RackSpec& rack,
                                                          const SkuCatalog& catalog);

}  // namespace kiln::device
