// StepRunner's collective pattern: every chip of the rack takes part in each
// slice through the phase's CollectiveRendezvous. Bandwidth is this chip's
// receive-side figure (device/collective.hpp), so a slow link fails the
// chips at its ends rather than the whole rack; busbw_gbps and algbw_gbps
// are sampled at the sweep's largest size, where a collective is
// bandwidth-bound (smaller sizes measure latency; all sizes are listed in
// the step's note, as nccl-tests prints its table).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "agents/step_runner.hpp"
#include "core/units.hpp"

namespace kiln::agent {
namespace {

constexpr const char* kLinkCrcErrors = "link_crc_errors";
constexpr const char* kDataErrors = "data_errors";
constexpr const char* kLinkGbps = "link_gbps";
constexpr const char* kBusbw = "busbw_gbps";
constexpr const char* kAlgbw = "algbw_gbps";
// A link counts as trained below its rate when under this share of it.
constexpr double kDegradedShare = 0.99;

std::size_t largest_index(const std::vector<std::uint64_t>& sizes) {
  return static_cast<std::size_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
}

}  // namespace

bool StepRunner::setup_collective() {
  if (context_.collective == nullptr) {
    reject(context_.no_collective_reason.empty()
               ? fmt::format("the {} backend cannot run collectives", context_.backend)
               : context_.no_collective_reason,
           true);
    return false;
  }
  const auto member = context_.collective->member(chip_.identity().serial);
  if (!member) {
    reject(fmt::format("chip {} is not part of the rack's collective", chip_.identity().serial), false);
    return false;
  }
  member_ = *member;
  auto settings = parse_collective_settings(StepParams(spec_.params()));
  if (!settings) {
    reject(settings.error().message, false);
    return false;
  }
  collective_ = std::move(settings).value();
  size_figures_.assign(collective_.sizes.size(), SizeFigures{});
  kind_ = Kind::collective;
  return true;
}

std::size_t StepRunner::collective_size_at(double t_s) const {
  const std::size_t n = collective_.sizes.size();
  if (n <= 1 || duration_s_ <= 0) return 0;
  const double segment = duration_s_ / static_cast<double>(n);
  // The small epsilon keeps a tick ending exactly on a boundary in the segment it ran in.
  const auto index = static_cast<std::size_t>(std::floor((t_s + 1e-9 * segment) / segment));
  return std::min(index, n - 1);
}

void StepRunner::work_collective(Seconds share) {
  if (stall_note_) {
    chip_.idle(share);
    return;
  }
  const std::size_t index = collective_size_at(elapsed_s_);
  const device::CollectiveWork work{collective_.op, collective_.sizes[index], collective_.check};
  auto slice = context_.collective->exchange(spec_.step_index(), member_, work, share, context_.stop);
  if (!slice && slice.error().code == ErrorCode::conflict) {
    // Another chip completed the step: so does this one (real chips end a tick apart).
    chip_.idle(share);
    collective_done_ = true;
    return;
  }
  if (!slice) {
    // Nothing ran: the chip's time still moves on with the other steps'.
    chip_.idle(share);
    stall_note_ = fmt::format("collective stalled: {}", slice.error().message);
    return;
  }
  if (!slice->stalled.empty()) {
    stall_note_ = fmt::format("collective stalled: {}", slice->stalled);
    return;
  }
  const auto me = static_cast<std::size_t>(member_);
  if (me >= slice->chip_busbw_gbps.size()) {
    stall_note_ = "collective: the fabric reported no figure for this chip";
    return;
  }
  const double s = share.count();
  tick_collective_s_ += s;
  SizeFigures& figures = size_figures_[index];
  figures.seconds += s;
  figures.busbw_seconds += slice->chip_busbw_gbps[me] * s;
  figures.rack_busbw_seconds += slice->busbw_gbps * s;
  if (index == largest_index(collective_.sizes)) {
    tick_busbw_s_ += slice->chip_busbw_gbps[me] * s;
    tick_algbw_s_ += slice->chip_algbw_gbps[me] * s;
    tick_largest_s_ += s;
  }
  bool corrupted_anywhere = false;
  for (const auto& m : slice->mismatches) {
    if (m.count == 0) continue;
    corrupted_anywhere = true;
    if (m.chip == member_) tick_link_mismatches_.push_back(m);
  }
  // A wrong result with no hop check to blame cannot be localized, but it
  // must not pass. One corrupted upstream is the faulty link's failure.
  if (me < slice->result_errors.size() && slice->result_errors[me] > 0 && !corrupted_anywhere) {
    tick_data_errors_ += slice->result_errors[me];
  }
}

void StepRunner::observe_collective(const Moment& at, const device::Telemetry& t, MetricValues& values) {
  for (const auto& m : tick_link_mismatches_) {
    state_.data_errors += m.count;
    detections_.record({metrics::FailureClass::link_errors, kiln::v1::DETECTION_CORRUPTION}, kDataErrors, {{"link", m.link}}, m.count, at,
                       "data received on this link differed from what was sent");
  }
  if (tick_data_errors_ > 0) {
    state_.data_errors += tick_data_errors_;
    detections_.record({metrics::FailureClass::link_errors, kiln::v1::DETECTION_CORRUPTION}, kDataErrors, {}, tick_data_errors_, at,
                       "the collective's result differed from the reference and no hop check localized it");
  }
  if (last_crc_.size() < t.links.size()) last_crc_.resize(t.links.size(), 0);
  const double nominal = chip_.sku().link_bandwidth_gbps;
  std::optional<double> slowest_rate;
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& link = t.links[i];
    const auto where = Location{{"link", static_cast<std::int64_t>(i)}};
    if (link.crc_errors) {
      const double delta = *link.crc_errors - last_crc_[i];
      if (delta > 0) {
        detections_.record({metrics::FailureClass::link_errors, kiln::v1::DETECTION_ERROR_COUNT}, kLinkCrcErrors, where, static_cast<std::uint64_t>(std::llround(delta)), at,
                           "frames received with a bad CRC");
      }
      last_crc_[i] = *link.crc_errors;
    }
    if (!link.rate_gbps) continue;
    slowest_rate = std::min(slowest_rate.value_or(*link.rate_gbps), *link.rate_gbps);
    if (nominal > 0 && *link.rate_gbps < kDegradedShare * nominal) {
      const std::string detail = fmt::format("link {} trained at {:.4g} of {:.4g} GB/s", i, *link.rate_gbps, nominal);
      // Either limit can be the one that notices: the link's rate or the bandwidth it costs.
      detections_.record({metrics::FailureClass::link_degraded, kiln::v1::DETECTION_SHORTFALL}, kLinkGbps, where, 1, at, detail);
      detections_.record({metrics::FailureClass::link_degraded, kiln::v1::DETECTION_SHORTFALL}, kBusbw, where, 1, at, detail);
      detections_.record({metrics::FailureClass::link_degraded, kiln::v1::DETECTION_SHORTFALL}, kAlgbw, where, 1, at, detail);
    }
  }
  if (slowest_rate) values.emplace_back(kLinkGbps, *slowest_rate);
  if (tick_largest_s_ > 0) {
    values.emplace_back(kBusbw, tick_busbw_s_ / tick_largest_s_);
    values.emplace_back(kAlgbw, tick_algbw_s_ / tick_largest_s_);
  }
  values.emplace_back(kDataErrors, static_cast<double>(state_.data_errors));
  tick_link_mismatches_.clear();
  tick_data_errors_ = 0;
  tick_collective_s_ = 0;
  tick_busbw_s_ = tick_algbw_s_ = tick_largest_s_ = 0;
}

void StepRunner::finish_collective(bool& completed, std::string& note) {
  // Leave by serial: a step rejected before it joined must not be waited for.
  if (context_.collective != nullptr && spec_.pattern() == "collective") {
    if (const auto member = context_.collective->member(chip_.identity().serial)) {
      // Only a chip that ran the step to its end ends it for the others;
      // a hung chip stalls them.
      const bool ran_to_end = completed && !stall_note_ && !chip_.hung() &&
                              remaining_s() <= 1e-9 * std::max(1.0, duration_s_);
      context_.collective->leave(spec_.step_index(), *member, note, ran_to_end);
    }
  }
  if (kind_ != Kind::collective) return;
  std::string table;
  for (std::size_t i = 0; i < size_figures_.size(); ++i) {
    const SizeFigures& f = size_figures_[i];
    if (f.seconds <= 0) continue;
    table += fmt::format("{}{} {:.1f} (rack {:.1f})", table.empty() ? "" : ", ", format_size(collective_.sizes[i]),
                         f.busbw_seconds / f.seconds, f.rack_busbw_seconds / f.seconds);
  }
  if (!table.empty()) note = join_notes(note, fmt::format("{} busbw GB/s by size: {}", device::to_string(collective_.op), table));
  if (stall_note_) {
    completed = false;
    note = join_notes(*stall_note_, note);
  } else if (completed && table.empty() && !chip_.hung()) {
    completed = false;
    note = join_notes(note, "no collective ran");
  }
}

}  // namespace kiln::agent
