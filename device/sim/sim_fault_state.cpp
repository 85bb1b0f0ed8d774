#include "device/sim/sim_fault_state.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "device/number_format.hpp"

namespace kiln::device {
namespace {
constexpr double kNever = std::numeric_limits<double>::infinity();

bool due(const Fault& fault, Seconds now) { return now >= fault.after.value_or(Seconds{0}); }
}  // namespace

SimFaultState::SimFaultState(std::vector<Fault> faults) : faults_(std::move(faults)) {
  for (const auto& f : faults_) {
    if (f.kind == FaultKind::slow) slow_factor_ *= f.factor;
    if (f.kind == FaultKind::cooling) r_th_factor_ *= f.r_th_factor;
  }
  next_ce_s_.assign(faults_.size(), kNever);
}

void SimFaultState::start_run(std::uint64_t sdc_seed, std::uint64_t hbm_seed) {
  sdc_rng_ = SimRandom(sdc_seed);
  hbm_ce_ = 0;
  hbm_ue_ = 0;
  count_.assign(faults_.size(), 0);
  // Correctable errors as a Poisson process in chip time, one stream per
  // fault: drawing the gaps (not a count per slice) makes them independent
  // of how time is sliced.
  ce_rng_.clear();
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const Fault& f = faults_[i];
    ce_rng_.emplace_back(splitmix64(hbm_seed ^ i));
    const bool active = f.kind == FaultKind::hbm_ce && f.rate_per_hour > 0;
    next_ce_s_[i] = active ? ce_rng_[i].exponential(f.rate_per_hour / 3600.0) : kNever;
  }
}

int SimFaultState::apply_sdc(double gemms, double die_c, double clock_mhz, const GemmTile* tile,
                             std::vector<TileFlip>& flips) {
  int events = 0;
  for (const auto& f : faults_) {
    if (f.kind != FaultKind::sdc || gemms <= 0) continue;
    if (f.above_c && !(die_c > *f.above_c)) continue;
    if (f.above_mhz && !(clock_mhz > *f.above_mhz)) continue;
    // 1 − (1 − rate)^gemms without cancellation for tiny rates.
    const double p = f.rate >= 1.0 ? 1.0 : -std::expm1(gemms * std::log1p(-f.rate));
    if (!(sdc_rng_.uniform01() < p)) continue;
    ++events;
    if (tile == nullptr) continue;
    const int column = f.core * tile->pe_cols + f.pe_col;
    if (f.pe_row >= tile->rows || column >= tile->cols || f.bit < 0 || f.bit > 31) continue;
    flips.push_back(TileFlip{
        static_cast<std::size_t>(f.pe_row) * static_cast<std::size_t>(tile->cols) + static_cast<std::size_t>(column),
        f.bit});
  }
  return events;
}

void SimFaultState::advance_to(Seconds now) {
  std::uint64_t ue = 0;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const Fault& f = faults_[i];
    if (count_.size() != faults_.size()) count_.assign(faults_.size(), 0);
    if (f.kind == FaultKind::hbm_ue && due(f, now)) {
      ++ue;
      count_[i] = 1;
    }
    if (f.kind != FaultKind::hbm_ce) continue;
    while (next_ce_s_[i] <= now.count()) {
      ++hbm_ce_;
      ++count_[i];
      next_ce_s_[i] += ce_rng_[i].exponential(f.rate_per_hour / 3600.0);
    }
  }
  hbm_ue_ = ue;
}

std::vector<MemoryErrorSite> SimFaultState::hbm_error_sites() const {
  std::vector<MemoryErrorSite> sites;
  for (std::size_t i = 0; i < faults_.size() && i < count_.size(); ++i) {
    const Fault& f = faults_[i];
    if (count_[i] == 0 || (f.kind != FaultKind::hbm_ce && f.kind != FaultKind::hbm_ue)) continue;
    auto site = std::find_if(sites.begin(), sites.end(),
                             [&](const MemoryErrorSite& s) { return s.stack == f.stack && s.channel == f.channel; });
    if (site == sites.end()) site = sites.insert(sites.end(), MemoryErrorSite{f.stack, f.channel, 0, 0});
    (f.kind == FaultKind::hbm_ce ? site->ce : site->ue) += static_cast<double>(count_[i]);
  }
  return sites;
}

bool SimFaultState::hang_due(Seconds now) const {
  for (const auto& f : faults_) {
    if (f.kind == FaultKind::hang && due(f, now)) return true;
  }
  return false;
}

bool SimFaultState::link_up(int link, Seconds now) const {
  for (const auto& f : faults_) {
    if (f.kind == FaultKind::link_down && f.link == link && due(f, now)) return false;
  }
  return true;
}

std::optional<Seconds> SimFaultState::link_down_after(int link) const {
  std::optional<Seconds> earliest;
  for (const auto& f : faults_) {
    if (f.kind != FaultKind::link_down || f.link != link) continue;
    const Seconds at = f.after.value_or(Seconds{0});
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

double SimFaultState::link_bandwidth_factor(int link) const {
  double factor = 1.0;
  for (const auto& f : faults_) {
    if (f.kind == FaultKind::link_degraded && f.link == link) factor *= f.bandwidth_factor;
  }
  return factor;
}

double SimFaultState::link_ber(int link) const {
  double clean = 1.0;  // probability a bit arrives intact
  for (const auto& f : faults_) {
    if (f.kind == FaultKind::link_crc && f.link == link) clean *= 1.0 - f.ber;
  }
  return 1.0 - clean;
}

double SimFaultState::fmax_offset_mhz() const {
  double offset = 0;
  for (const auto& f : faults_) {
    if (f.kind == FaultKind::margin) offset += f.fmax_offset_mhz;
  }
  return offset;
}

}  // namespace kiln::device
