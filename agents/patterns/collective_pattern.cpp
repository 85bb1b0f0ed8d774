// collective: every chip of the rack takes part in each slice through the
// phase's CollectiveRendezvous. Bandwidth is this chip's receive-side
// figure (device/collective.hpp), so a slow link fails the chips at its
// ends rather than the whole rack; busbw_gbps and algbw_gbps are sampled at
// the sweep's largest size, where a collective is bandwidth-bound (smaller
// sizes measure latency; all sizes are listed in the step's note, as
// nccl-tests prints its table).
//
// When a chip hangs or leaves, or a link goes down, the rack's fabric
// re-forms the collective round it (device/collective.hpp) and this chip
// goes on being tested by what is left; its figures are then the whole
// rack's equivalent, and the note says what the collective was re-formed
// around. A chip that no re-formed collective can reach (no working link to
// a chip taking part) ends the step untested, saying why.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "agents/collective_rendezvous.hpp"
#include "agents/patterns/builtin_patterns.hpp"
#include "core/units.hpp"
#include "metrics/catalog.hpp"

namespace kiln::agent {
namespace {

// A link counts as trained below its rate when under this share of it.
constexpr double kDegradedShare = 0.99;

class CollectivePattern final : public Pattern {
 public:
  CollectivePattern(PatternEnv& env, const plan::ParamSet& params) : env_(env) {
    // The registry's choices are the device's ops, so this always reads.
    op_ = device::parse_collective_op(params.choice("op")).value_or(device::CollectiveOp::allreduce);
    sizes_ = params.sizes("sizes");
    check_ = params.boolean("check");
    largest_ = static_cast<std::size_t>(std::max_element(sizes_.begin(), sizes_.end()) - sizes_.begin());
    figures_.assign(sizes_.size(), SizeFigures{});
  }

  std::optional<Skip> init(const device::Telemetry& start) override {
    const StepContext& context = env_.context;
    if (context.collective == nullptr) {
      return Skip{context.no_collective_reason.empty()
                      ? fmt::format("the {} backend cannot run collectives", context.backend)
                      : context.no_collective_reason,
                  true};
    }
    const auto member = context.collective->member(env_.chip.identity().serial);
    if (!member)
      return Skip{fmt::format("chip {} is not part of the rack's collective", env_.chip.identity().serial), false};
    member_ = *member;
    env_.summaries.add(metrics::kDataErrors, static_cast<double>(env_.state.data_errors));
    for (const auto& link : start.links) last_crc_.push_back(link.crc_errors.value_or(0));
    return std::nullopt;
  }

  double tick_limit_s(double remaining_s) const override {
    if (sizes_.size() <= 1) return remaining_s;
    // A tick stays within one size of the sweep.
    const double segment = env_.duration_s / static_cast<double>(sizes_.size());
    const double end = static_cast<double>(size_at(env_.elapsed_s) + 1) * segment;
    if (end - env_.elapsed_s > 1e-9 * segment) return std::min(remaining_s, end - env_.elapsed_s);
    return remaining_s;
  }

  std::optional<Skip> run(Seconds share, Seconds) override;
  void observe(const Moment& at, Seconds tick, const device::Telemetry& t, MetricValues& values) override;

  std::optional<StepEnd> ended() const override {
    if (stall_note_) return StepEnd{false, ""};  // finish() puts the stall first in the note
    if (done_) return StepEnd{true, ""};
    return std::nullopt;
  }

  void finish(StepEnd& end, kiln::v1::ChipStepResult& result) override;

 private:
  struct SizeFigures {
    double seconds = 0;        // chip time spent on this size
    double busbw_seconds = 0;  // this chip's busbw × time
    double rack_busbw_seconds = 0;
  };

  // Remembers, once each, what the collective was re-formed around and how
  // this chip's figures were scaled for it.
  void note_reformed(const device::CollectiveSlice& slice, const device::CollectiveGroup& group) {
    std::string note = fmt::format("collective re-formed {}: {} of {} chips", slice.reformed, group.chips.size(),
                                   slice.chip_busbw_gbps.size());
    if (group.scale != 1) {
      note += fmt::format(
          ", bandwidth given as the whole rack's equivalent (x {:.3g}; peak {:.4g} GB/s re-formed, "
          "{:.4g} whole)",
          group.scale, group.peak_busbw_gbps, slice.peak_busbw_gbps);
    }
    if (std::find(reformed_notes_.begin(), reformed_notes_.end(), note) == reformed_notes_.end()) {
      reformed_notes_.push_back(std::move(note));
    }
  }

  std::size_t size_at(double t_s) const {
    const std::size_t n = sizes_.size();
    if (n <= 1 || env_.duration_s <= 0) return 0;
    const double segment = env_.duration_s / static_cast<double>(n);
    // The small epsilon keeps a tick ending exactly on a boundary in the segment it ran in.
    const auto index = static_cast<std::size_t>(std::floor((t_s + 1e-9 * segment) / segment));
    return std::min(index, n - 1);
  }

  PatternEnv& env_;
  device::CollectiveOp op_ = device::CollectiveOp::allreduce;
  std::vector<std::uint64_t> sizes_;
  bool check_ = true;
  std::size_t largest_ = 0;
  int member_ = -1;                             // this chip's index in the rendezvous
  std::vector<SizeFigures> figures_;            // per size in sizes_
  double tick_busbw_s_ = 0, tick_algbw_s_ = 0;  // this chip's figures × time, largest size only
  double tick_largest_s_ = 0;
  std::vector<device::CollectiveMismatch> tick_link_mismatches_;
  std::uint64_t tick_data_errors_ = 0;
  std::optional<std::string> stall_note_;  // the collective cannot go on: ends the step after this tick
  bool done_ = false;                      // another chip completed the step: this one ends with it
  std::vector<double> last_crc_;           // per link, at the previous sample
  std::vector<std::string> reformed_notes_;
};

std::optional<Skip> CollectivePattern::run(Seconds share, Seconds) {
  if (stall_note_) {
    env_.chip.idle(share);
    return std::nullopt;
  }
  const std::size_t index = size_at(env_.elapsed_s);
  const device::CollectiveWork work{op_, sizes_[index], check_};
  auto shared = env_.context.collective->exchange(env_.spec.step_index(), member_, work, share, env_.context.stop);
  if (!shared && shared.error().code == ErrorCode::conflict) {
    // Another chip completed the step: so does this one (real chips end a tick apart).
    env_.chip.idle(share);
    done_ = true;
    return std::nullopt;
  }
  if (!shared) {
    // Nothing ran: the chip's time still moves on with the other steps'.
    env_.chip.idle(share);
    stall_note_ = fmt::format("collective stalled: {}", shared.error().message);
    return std::nullopt;
  }
  const device::CollectiveSlice* slice = shared->get();
  const auto me = static_cast<std::size_t>(member_);
  if (me < slice->idle.size() && !slice->idle[me].empty()) {
    // A hung chip's step ends as a hang (the step runner sees it); any
    // other chip left out cannot be tested by this collective any more.
    if (!env_.chip.hung()) stall_note_ = fmt::format("no test of this chip was possible: {}", slice->idle[me]);
    return std::nullopt;
  }
  if (!slice->stalled.empty()) {
    stall_note_ = fmt::format("collective stalled: {}", slice->stalled);
    return std::nullopt;
  }
  if (me >= slice->chip_busbw_gbps.size()) {
    stall_note_ = "collective: the fabric reported no figure for this chip";
    return std::nullopt;
  }
  const device::CollectiveGroup* group = nullptr;
  if (me < slice->chip_group.size() && slice->chip_group[me] >= 0 &&
      static_cast<std::size_t>(slice->chip_group[me]) < slice->groups.size()) {
    group = &slice->groups[static_cast<std::size_t>(slice->chip_group[me])];
  }
  // Noted at the size the step's figures are sampled at (the scale depends on the size).
  if (group != nullptr && group->reformed && index == largest_) note_reformed(*slice, *group);
  const double s = share.count();
  SizeFigures& figures = figures_[index];
  figures.seconds += s;
  figures.busbw_seconds += slice->chip_busbw_gbps[me] * s;
  figures.rack_busbw_seconds += (group != nullptr ? group->busbw_gbps : slice->busbw_gbps) * s;
  if (index == largest_) {
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
  return std::nullopt;
}

void CollectivePattern::observe(const Moment& at, Seconds, const device::Telemetry& t, MetricValues& values) {
  auto& detections = env_.detections;
  constexpr Finding kCorruption{metrics::FailureClass::link_errors, kiln::v1::DETECTION_CORRUPTION};
  for (const auto& m : tick_link_mismatches_) {
    env_.state.data_errors += m.count;
    detections.record(kCorruption, metrics::kDataErrors, {{"link", m.link}}, m.count, at,
                      "data received on this link differed from what was sent");
  }
  if (tick_data_errors_ > 0) {
    env_.state.data_errors += tick_data_errors_;
    detections.record(kCorruption, metrics::kDataErrors, {}, tick_data_errors_, at,
                      "the collective's result differed from the reference and no hop check localized it");
  }
  if (last_crc_.size() < t.links.size()) last_crc_.resize(t.links.size(), 0);
  const double nominal = env_.chip.sku().link_bandwidth_gbps;
  constexpr Finding kShortfall{metrics::FailureClass::link_degraded, kiln::v1::DETECTION_SHORTFALL};
  std::optional<double> slowest_rate;
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& link = t.links[i];
    // Made only for a finding: this runs for every link of every chip each tick.
    const auto where = [i] { return Location{{"link", static_cast<std::int64_t>(i)}}; };
    if (link.crc_errors) {
      const double delta = *link.crc_errors - last_crc_[i];
      if (delta > 0) {
        detections.record({metrics::FailureClass::link_errors, kiln::v1::DETECTION_ERROR_COUNT},
                          metrics::kLinkCrcErrors, where(), static_cast<std::uint64_t>(std::llround(delta)), at,
                          "frames received with a bad CRC");
      }
      last_crc_[i] = *link.crc_errors;
    }
    if (!link.rate_gbps) continue;
    slowest_rate = std::min(slowest_rate.value_or(*link.rate_gbps), *link.rate_gbps);
    if (nominal > 0 && *link.rate_gbps < kDegradedShare * nominal) {
      const std::string detail = fmt::format("link {} trained at {:.4g} of {:.4g} GB/s", i, *link.rate_gbps, nominal);
      // Either limit can be the one that notices: the link's rate or the bandwidth it costs.
      detections.record(kShortfall, metrics::kLinkGbps, where(), 1, at, detail);
      detections.record(kShortfall, metrics::kBusbwGbps, where(), 1, at, detail);
      detections.record(kShortfall, metrics::kAlgbwGbps, where(), 1, at, detail);
    }
  }
  if (slowest_rate) values.push_back({metrics::kLinkGbps.value, *slowest_rate});
  if (tick_largest_s_ > 0) {
    values.push_back({metrics::kBusbwGbps.value, tick_busbw_s_ / tick_largest_s_});
    values.push_back({metrics::kAlgbwGbps.value, tick_algbw_s_ / tick_largest_s_});
  }
  values.push_back({metrics::kDataErrors.value, static_cast<double>(env_.state.data_errors)});
  tick_link_mismatches_.clear();
  tick_data_errors_ = 0;
  tick_busbw_s_ = tick_algbw_s_ = tick_largest_s_ = 0;
}

void CollectivePattern::finish(StepEnd& end, kiln::v1::ChipStepResult&) {
  // Only a chip that ran the step to its end ends it for the others; any
  // other leaves, and the others' collective is re-formed without it.
  const bool ran_to_end = end.completed && !stall_note_ && !env_.chip.hung() && env_.at_end();
  env_.context.collective->leave(env_.spec.step_index(), member_, end.note, ran_to_end);
  std::string table;
  for (std::size_t i = 0; i < figures_.size(); ++i) {
    const SizeFigures& f = figures_[i];
    if (f.seconds <= 0) continue;
    table += fmt::format("{}{} {:.1f} (rack {:.1f})", table.empty() ? "" : ", ", format_size(sizes_[i]),
                         f.busbw_seconds / f.seconds, f.rack_busbw_seconds / f.seconds);
  }
  if (!table.empty()) {
    end.note = join_notes(end.note, fmt::format("{} busbw GB/s by size: {}", device::to_string(op_), table));
  }
  for (const auto& note : reformed_notes_) end.note = join_notes(end.note, note);
  if (stall_note_) {
    end.completed = false;
    end.note = join_notes(*stall_note_, end.note);
  } else if (end.completed && table.empty() && !env_.chip.hung()) {
    end.completed = false;
    end.note = join_notes(end.note, "no collective ran");
  }
}

}  // namespace

std::unique_ptr<Pattern> make_collective_pattern(PatternEnv& env, const plan::ParamSet& params) {
  return std::make_unique<CollectivePattern>(env, params);
}

}  // namespace kiln::agent
