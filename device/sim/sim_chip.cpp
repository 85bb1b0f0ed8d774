#include "device/sim/sim_chip.hpp"

#include <algorithm>
#include <utility>

#include "device/gemm_tile.hpp"
#include "device/sim/compute_model.hpp"

namespace kiln::device {
namespace {

// Die properties: the same whatever the run seed.
std::uint64_t silicon_seed(const SimChipConfig& config, std::uint64_t part) {
  return splitmix64(derive_seed(config.lab_seed, config.identity.serial, 0, RandomStream::silicon) ^ part);
}

// HBM bytes a GEMM moves at minimum: each operand read once, the result written once.
double gemm_hbm_bytes(const GemmWork& work) {
  const auto m = static_cast<double>(work.m), n = static_cast<double>(work.n), k = static_cast<double>(work.k);
  return dtype_bytes(work.dtype) * (m * k + k * n + m * n);
}

}  // namespace

SimChip::SimChip(SimChipConfig config)
    : config_(std::move(config)),
      faults_(config_.faults),
      thermal_(config_.sku, config_.ambient_c, faults_.r_th_factor()),
      governor_(config_.sku),
      margin_(config_.sku, silicon_seed(config_, 1), faults_.fmax_offset_mhz()),
      hbm_(config_.sku, config_.faults, silicon_seed(config_, 2)),
      ports_(static_cast<std::size_t>(std::max(0, config_.links))),
      voltage_mv_(config_.sku.nominal_voltage_mv),
      power_w_(config_.sku.idle_w) {
  start_run(0);
}

void SimChip::start_run(std::uint64_t run_seed) {
  const auto seed = [&](RandomStream stream) {
    return derive_seed(config_.lab_seed, config_.identity.serial, run_seed, stream);
  };
  tile_rng_ = SimRandom(seed(RandomStream::tile_data));
  margin_rng_ = SimRandom(seed(RandomStream::margin));
  collective_rng_ = SimRandom(seed(RandomStream::collective_data));
  faults_.start_run(seed(RandomStream::sdc), seed(RandomStream::hbm));
  hbm_.start_run(seed(RandomStream::memory_data));
  const std::uint64_t link_seed = seed(RandomStream::link);
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    SimLinkPort& p = ports_[i];
    p.rng = SimRandom(splitmix64(link_seed ^ i));
    p.crc_errors = 0;
    p.retransmits = 0;
    p.gbps = 0;
  }
  clear_operating_point();
  hbm_gbps_ = 0;
  now_ = Seconds{0};
  // A new run resets the device (as an agent would after a hang); the die
  // keeps its temperature.
  hung_ = false;
  injected_sdc_events_ = 0;
  injected_margin_events_ = 0;
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
    hbm_gbps_ = 0;
    clear_link_rates();
    advance(sku.idle_w, 0, dt);
    return slice;
  }
  // The slice runs at the clock and temperature it starts with; throttling
  // reacts at its end.
  const double clock_mhz = governor_.clock_mhz();
  const double die_c = thermal_.die_c();
  const double flops_per_s = gemm_flops_per_second(sku, work, clock_mhz) * faults_.slow_factor();
  slice.flops = flops_per_s * dt.count();
  slice.gemms = slice.flops / gemm_flops(work);
  // The clean tile first (shared by the rack's chips where its inputs are),
  // then this chip's faults, each drawn whether or not a tile is made.
  std::shared_ptr<const GemmTile> clean;
  if (work.functional) {
    if (work.input_seed && config_.tiles) {
      clean = config_.tiles->clean_tile(sku, work);
    } else {
      GemmTile& own = own_storage();
      if (work.input_seed) {
        SimRandom shared(*work.input_seed);
        make_gemm_tile(sku, work, shared, own);
      } else {
        make_gemm_tile(sku, work, tile_rng_, own);
      }
      clean = tile_storage_;
    }
  }
  flips_.clear();
  injected_sdc_events_ +=
      static_cast<std::uint64_t>(faults_.apply_sdc(slice.gemms, die_c, clock_mhz, clean.get(), flips_));
  injected_margin_events_ += static_cast<std::uint64_t>(
      margin_.apply(slice.gemms, voltage_mv_, clock_mhz, die_c, margin_rng_, clean.get(), flips_));
  if (clean) slice.tile = with_flips(std::move(clean));
  hbm_gbps_ = slice.gemms * gemm_hbm_bytes(work) / dt.count() / 1e9;
  clear_link_rates();
  advance(chip_power_w(sku, gemm_activity(work.dtype), voltage_mv_, clock_mhz), 1.0, dt);
  return slice;
}

GemmTile& SimChip::own_storage() {
  if (!tile_storage_ || tile_storage_.use_count() > 1) tile_storage_ = std::make_shared<GemmTile>();
  return *tile_storage_;
}

std::shared_ptr<const GemmTile> SimChip::with_flips(std::shared_ptr<const GemmTile> clean) {
  if (flips_.empty()) return clean;
  if (clean != tile_storage_) {
    // A shared clean tile is never written: the faults go into a copy of our own.
    GemmTile& own = own_storage();
    own = *clean;
  }
  apply_flips(*tile_storage_, flips_);
  return tile_storage_;
}

void SimChip::idle(Seconds dt) {
  if (dt.count() <= 0) return;
  check_hang();
  hbm_gbps_ = 0;
  clear_link_rates();
  advance(config_.sku.idle_w, 0, dt);
}

Result<MemorySlice> SimChip::run_memory(const MemoryWork& work, Seconds dt) {
  if (hbm_.channels() == 0) {
    return make_error(ErrorCode::unavailable, "SKU {} has no HBM to test", config_.sku.name);
  }
  if (!(work.fraction > 0 && work.fraction <= 1)) {
    return make_error(ErrorCode::invalid_argument, "memory fraction {} is outside (0, 1]", work.fraction);
  }
  check_hang();
  clear_link_rates();
  if (dt.count() <= 0 || hung_) {
    MemorySlice stalled;
    stalled.elapsed = dt;
    hbm_gbps_ = 0;
    if (dt.count() > 0) advance(config_.sku.idle_w, 0, dt);
    return stalled;
  }
  MemorySlice slice = hbm_.run(work, dt, thermal_.hbm_c());
  hbm_gbps_ = slice.gbps;
  advance(chip_power_w(config_.sku, kMemoryActivity, voltage_mv_, governor_.clock_mhz()), 0, dt);
  return slice;
}

Status SimChip::set_operating_point(double voltage_mv, double clock_mhz) {
  const Sku& sku = config_.sku;
  const double v_lo = kMinVoltageShare * sku.nominal_voltage_mv, v_hi = kMaxVoltageShare * sku.nominal_voltage_mv;
  if (!(voltage_mv >= v_lo && voltage_mv <= v_hi)) {
    return make_error(ErrorCode::invalid_argument, "{}: voltage {} mV is outside {:.0f}..{:.0f} mV", sku.name,
                      voltage_mv, v_lo, v_hi);
  }
  const double f_hi = kMaxClockShare * sku.max_clock_mhz;
  if (!(clock_mhz > 0 && clock_mhz <= f_hi)) {
    return make_error(ErrorCode::invalid_argument, "{}: clock {} MHz is outside (0, {:.0f}] MHz", sku.name, clock_mhz,
                      f_hi);
  }
  voltage_mv_ = voltage_mv;
  governor_.set_target_clock(clock_mhz);
  return {};
}

void SimChip::clear_operating_point() {
  voltage_mv_ = config_.sku.nominal_voltage_mv;
  governor_.set_target_clock(config_.sku.max_clock_mhz);
}

bool SimChip::link_up(int link) const {
  if (!faults_.link_up(link, now_)) return false;
  const auto& far = port(link).peer_down_after;
  return !(far && now_ >= *far);
}

double SimChip::link_bandwidth_gbps(int link) const {
  return config_.sku.link_bandwidth_gbps * faults_.link_bandwidth_factor(link) * port(link).peer_bandwidth_factor;
}

void SimChip::communicate(Seconds dt, std::span<const LinkTraffic> traffic) {
  if (dt.count() <= 0) return;
  check_hang();
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    const LinkTraffic t = i < traffic.size() ? traffic[i] : LinkTraffic{};
    ports_[i].gbps = t.sent_bytes / dt.count() / 1e9;
    ports_[i].crc_errors += t.crc_errors;
    ports_[i].retransmits += t.crc_errors;  // every bad frame is sent again
  }
  hbm_gbps_ = 0;
  bool busy = false;
  for (const auto& t : traffic) busy = busy || t.sent_bytes > 0;
  const double power =
      busy ? chip_power_w(config_.sku, kLinkActivity, voltage_mv_, governor_.clock_mhz()) : config_.sku.idle_w;
  advance(power, 0, dt);
}

void SimChip::clear_link_rates() {
  for (auto& p : ports_) p.gbps = 0;
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
  t.throttled = governor_.throttled();
  t.hbm_ce = faults_.hbm_ce();
  t.hbm_ue = faults_.hbm_ue();
  t.hbm_error_sites = faults_.hbm_error_sites();
  t.hbm_gbps = hbm_gbps_;
  t.links.reserve(ports_.size());
  for (int i = 0; i < link_count(); ++i) {
    const SimLinkPort& p = port(i);
    LinkTelemetry link;
    link.gbps = p.gbps;
    link.crc_errors = static_cast<double>(p.crc_errors);
    link.up = link_up(i);
    if (p.peer_chip >= 0) link.rate_gbps = link_bandwidth_gbps(i);
    t.links.push_back(link);
  }
  return t;
}

Result<std::vector<std::unique_ptr<Chip>>> make_sim_chips(const Lab& lab, const RackSpec& rack,
                                                          const SkuCatalog& catalog, SimRackOptions options) {
  if (rack.backend != Backend::sim) {
    return make_error(ErrorCode::invalid_argument, "rack '{}' has backend {}, not sim", rack.id,
                      to_string(rack.backend));
  }
  std::vector<std::unique_ptr<Chip>> chips;
  chips.reserve(rack.chips.size());
  const auto tiles = options.share_clean_tiles ? std::make_shared<SharedTileCache>() : nullptr;
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
    config.tiles = tiles;
    chips.push_back(std::make_unique<SimChip>(std::move(config)));
  }
  return chips;
}

}  // namespace kiln::device
