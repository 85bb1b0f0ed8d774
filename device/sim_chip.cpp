#include "device/sim_chip.hpp"

#include <utility>

#include "device/compute_model.hpp"
#include "device/gemm_tile.hpp"

namespace kiln::device {

SimChip::SimChip(SimChipConfig config)
    : config_(std::move(config)),
      faults_(config_.faults),
      thermal_(config_.sku, config_.ambient_c, faults_.r_th_factor()),
      governor_(config_.sku),
      voltage_mv_(config_.sku.nominal_voltage_mv),
      power_w_(config_.sku.idle_w) {
  start_run(0);
}

void SimChip::start_run(std::uint64_t run_seed) {
  const auto seed = [&](RandomStream stream) {
    return derive_seed(config_.lab_seed, config_.identity.serial, run_seed, stream);
  };
  tile_rng_ = SimRandom(seed(RandomStream::tile_data));
  faults_.start_run(seed(RandomStream::sdc), seed(RandomStream::hbm));
  now_ = Seconds{0};
  // A new run resets the device (as an agent would after a hang); the die
  // keeps its temperature.
  hung_ = false;
  injected_sdc_events_ = 0;
}

void SimChip::check_hang() {
  if (faults_.hang_due(now_)) hung_ = true;
}

GemmSlice SimChip::run_gemm(const GemmWork& work, Seconds dt) {
  GemmSlice slice;
  slice.elapsed = dt;
  if (dt.count() <= 0) return slice;
  check_hang();
  const Sku& sku = config_.sku;
  const double efficiency = shape_efficiency(sku, work.dtype, work.m, work.n, work.k);
  if (hung_ || efficiency <= 0) {  // hung, unsupported dtype or empty shape: nothing gets done
    advance(sku.idle_w, 0, dt);
    return slice;
  }
  // The slice runs at the clock and temperature it starts with; throttling
  // reacts at its end.
  const double clock_mhz = governor_.clock_mhz();
  const double die_c = thermal_.die_c();
  const double flops_per_s =
      sku.peak(work.dtype) * 1e12 * efficiency * (clock_mhz / sku.max_clock_mhz) * faults_.slow_factor();
  slice.flops = flops_per_s * dt.count();
  slice.gemms = slice.flops / (2.0 * static_cast<double>(work.m) * static_cast<double>(work.n) *
                               static_cast<double>(work.k));
  if (work.functional) {
    slice.tile.emplace(std::exchange(spare_tile_, GemmTile{}));
    make_gemm_tile(sku, work, tile_rng_, *slice.tile);
  }
  injected_sdc_events_ += static_cast<std::uint64_t>(
      faults_.apply_sdc(slice.gemms, die_c, clock_mhz, slice.tile ? &*slice.tile : nullptr));
  advance(chip_power_w(sku, gemm_activity(work.dtype), voltage_mv_, clock_mhz), 1.0, dt);
  return slice;
}

void SimChip::idle(Seconds dt) {
  if (dt.count() <= 0) return;
  check_hang();
  advance(config_.sku.idle_w, 0, dt);
}

void SimChip::advance(double power_w, double utilization, Seconds dt) {
  thermal_.advance(power_w, dt);
  governor_.update(thermal_.die_c());
  now_ += dt;
  faults_.advance_to(now_);
  check_hang();
  power_w_ = power_w;
  utilization_ = utilization;
  // Past the critical temperature the chip trips and stops working; it
  // stays hung until the next run resets it.
  if (thermal_.die_c() >= config_.sku.critical_c) hung_ = true;
}

Telemetry SimChip::telemetry() const {
  Telemetry t;
  t.temperature_c = thermal_.die_c();
  t.hbm_temperature_c = thermal_.hbm_c();
  t.power_w = power_w_;
  t.clock_mhz = governor_.clock_mhz();
  t.voltage_mv = voltage_mv_;
  t.utilization = utilization_;
  t.throttled = governor_.throttled() ? 1.0 : 0.0;
  t.hbm_ce = faults_.hbm_ce();
  t.hbm_ue = faults_.hbm_ue();
  t.links.reserve(static_cast<std::size_t>(config_.links));
  for (int i = 0; i < config_.links; ++i) {
    LinkTelemetry link;
    // No collective traffic is simulated yet: links are idle (0 GB/s, no
    // CRC errors), which is a reading, not "unavailable".
    link.gbps = 0.0;
    link.crc_errors = 0.0;
    link.up = faults_.link_up(i, now_) ? 1.0 : 0.0;
    t.links.push_back(link);
  }
  return t;
}

Result<std::vector<std::unique_ptr<Chip>>> make_sim_chips(const Lab& lab, const RackSpec& rack,
                                                          const SkuCatalog& catalog) {
  if (rack.backend != Backend::sim) {
    return make_error(ErrorCode::invalid_argument, "rack '{}' has backend {}, not sim", rack.id,
                      to_string(rack.backend));
  }
  std::vector<std::unique_ptr<Chip>> chips;
  chips.reserve(rack.chips.size());
  for (const auto& spec : rack.chips) {
    const Sku* sku = catalog.find(spec.sku);
    if (sku == nullptr) {
      return make_error(ErrorCode::not_found, "chip {} of rack '{}': unknown SKU '{}'", spec.serial, rack.id, spec.sku);
    }
    SimChipConfig config;
    config.identity = ChipIdentity{spec.serial, rack.id, spec.slot, spec.sku};
    config.sku = *sku;
    config.faults = spec.faults;
    config.lab_seed = lab.seed;
    config.ambient_c = lab.ambient_c;
    config.links = chip_link_count(rack.topology, rack.chips.size(), *sku);
    chips.push_back(std::make_unique<SimChip>(std::move(config)));
  }
  return chips;
}

}  // namespace kiln::device
