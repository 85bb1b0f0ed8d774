#pragma once
// A simulated accelerator: throughput, power, temperature and throttling
// from its SKU, timing margin, HBM with memory patterns, link ports, a real
// verification GEMM every slice, and injected faults.
//
// The model advances only by the dt it is given, never by the wall clock,
// and all its randomness derives from (lab seed, serial, run seed), so the
// same inputs give bit-identical results at any time scale. Not thread-safe:
// one agent thread drives a chip (and SimFabric drives all chips of a rack
// during a collective slice).

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"
#include "device/lab.hpp"
#include "device/sim/clock_governor.hpp"
#include "device/sim/hbm_model.hpp"
#include "device/sim/shared_tile_cache.hpp"
#include "device/sim/sim_fault_state.hpp"
#include "device/sim/sim_link.hpp"
#include "device/sim/thermal_model.hpp"
#include "device/sim/timing_margin.hpp"
#include "device/sim_random.hpp"

namespace kiln::device {

struct SimChipConfig {
  ChipIdentity identity;
  Sku sku;
  std::vector<Fault> faults;
  std::uint64_t lab_seed = 0;
  double ambient_c = 25.0;
  int links = 0;  // chip_link_count() of its rack
  // The rack's clean tiles of shared inputs (GemmWork::input_seed), shared
  // by its chips; null: each chip computes its own.
  std::shared_ptr<SharedTileCache> tiles;
};

// Share of the dynamic power range a memory pattern or link traffic
// switches (HBM PHYs and controllers, SerDes): far below a GEMM's.
inline constexpr double kMemoryActivity = 0.35;
inline constexpr double kLinkActivity = 0.15;
// What set_operating_point accepts, as shares of nominal voltage / max clock.
inline constexpr double kMinVoltageShare = 0.6, kMaxVoltageShare = 1.3;
inline constexpr double kMaxClockShare = 1.5;

// What one link carried in a collective slice (SimFabric → SimChip).
struct LinkTraffic {
  double sent_bytes = 0;
  std::uint64_t crc_errors = 0;  // received on this port
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
  Result<MemorySlice> run_memory(const MemoryWork& work, Seconds dt) override;
  Status set_operating_point(double voltage_mv, double clock_mhz) override;
  void clear_operating_point() override;
  Telemetry telemetry() const override;
  bool hung() const override { return hung_; }

  // Ground truth for harness self-tests: corruption events injected this
  // run by sdc faults and by running past fmax (a verifier that misses
  // some has a bug).
  std::uint64_t injected_sdc_events() const { return injected_sdc_events_; }
  std::uint64_t injected_margin_events() const { return injected_margin_events_; }
  const ThermalModel& thermal() const { return thermal_; }
  const TimingMargin& margin() const { return margin_; }
  const HbmModel& hbm() const { return hbm_; }

  // --- for SimFabric ---
  int link_count() const { return static_cast<int>(ports_.size()); }
  SimLinkPort& port(int link) { return ports_[static_cast<std::size_t>(link)]; }
  const SimLinkPort& port(int link) const { return ports_[static_cast<std::size_t>(link)]; }
  const SimFaultState& faults() const { return faults_; }
  // Up at this chip's current time: neither end's link_down is due.
  bool link_up(int link) const;
  // Bandwidth of `link` per direction after both ends' link_degraded.
  double link_bandwidth_gbps(int link) const;
  SimRandom& collective_rng() { return collective_rng_; }
  // `dt` of link traffic (one entry per link): counters, power and time move on.
  void communicate(Seconds dt, std::span<const LinkTraffic> traffic);

 private:
  void check_hang();
  // The slice's tile: `clean` with `flips_` applied (into own storage).
  std::shared_ptr<const GemmTile> with_flips(std::shared_ptr<const GemmTile> clean);
  GemmTile& own_storage();
  void advance(double power_w, double utilization, Seconds dt);
  void clear_link_rates();

  SimChipConfig config_;
  SimFaultState faults_;
  ThermalModel thermal_;
  ClockGovernor governor_;
  TimingMargin margin_;
  HbmModel hbm_;
  std::vector<SimLinkPort> ports_;
  SimRandom tile_rng_;
  SimRandom margin_rng_;
  SimRandom collective_rng_;
  // The last slice's own tile: its storage is reused once nobody else holds it.
  std::shared_ptr<GemmTile> tile_storage_;
  std::vector<TileFlip> flips_;  // this slice's, reused
  Seconds now_{0};
  double voltage_mv_;
  double power_w_;
  double utilization_ = 0;
  double hbm_gbps_ = 0;
  bool hung_ = false;
  std::uint64_t injected_sdc_events_ = 0;
  std::uint64_t injected_margin_events_ = 0;
};

struct SimRackOptions {
  // The rack's chips share one SharedTileCache (docs/simulation.md, "The
  // verification tile"); off: each computes every tile itself, as before.
  bool share_clean_tiles = true;
};

// One SimChip per chip of a sim rack, in the rack's order. Fails when the
// rack is not a sim rack or names a SKU the catalog lacks.
Result<std::vector<std::unique_ptr<Chip>>> make_sim_chips(const Lab& lab, const RackSpec& rack,
                                                          const SkuCatalog& catalog, SimRackOptions options = {});

}  // namespace kiln::device
