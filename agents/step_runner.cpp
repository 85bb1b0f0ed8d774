#include "agents/step_runner.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agents/telemetry_values.hpp"

namespace kiln::agent {
namespace {

constexpr Finding kSdc{metrics::FailureClass::sdc, kiln::v1::DETECTION_CORRUPTION};
constexpr const char* kSdcMetric = "sdc_errors";
constexpr const char* kMemoryErrors = "memory_errors";

}  // namespace

std::string join_notes(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "; " + b;
}

StepRunner::StepRunner(device::Chip& chip, const kiln::v1::StepSpec& spec, const StepContext& context,
                       ChipRunState& state)
    : chip_(chip), spec_(spec), context_(context), state_(state) {
  result_.set_serial(chip_.identity().serial);
  result_.set_run_id(context_.run_id);
  result_.set_step_index(spec_.step_index());

  if (!std::isfinite(spec_.duration_s()) || spec_.duration_s() < 0) {
    reject(fmt::format("invalid duration {} s", spec_.duration_s()), false);
    return;
  }
  duration_s_ = spec_.duration_s();

  bool ok = false;
  if (spec_.pattern() == "gemm") {
    ok = setup_gemm();
  } else if (spec_.pattern() == "idle") {
    kind_ = Kind::idle;
    ok = true;
  } else if (spec_.pattern() == "hbm") {
    ok = setup_hbm();
  } else if (spec_.pattern() == "shmoo") {
    ok = setup_shmoo();
  } else if (spec_.pattern() == "power") {
    ok = setup_power();
  } else if (spec_.pattern() == "collective") {
    ok = setup_collective();
  } else {
    reject(fmt::format("pattern {} is not supported by the {} backend yet", spec_.pattern(), context_.backend), true);
  }
  if (!ok) return;

  // Counters start the summary with their value when the step began, so
  // that max − min is what this step added (they are cumulative per run).
  const device::Telemetry start = chip_.telemetry();
  for (const auto& [name, value] : counter_values(start)) summaries_.add(name, value);
  if (kind_ == Kind::gemm && gemm_.verify != Verify::none) {
    summaries_.add(kSdcMetric, static_cast<double>(state_.sdc_errors));
  }
  if (kind_ == Kind::hbm) summaries_.add(kMemoryErrors, static_cast<double>(state_.memory_errors));
  if (kind_ == Kind::collective) {
    summaries_.add("data_errors", static_cast<double>(state_.data_errors));
    for (const auto& link : start.links) last_crc_.push_back(link.crc_errors.value_or(0));
  }
  last_hbm_ue_ = start.hbm_ue;
  for (const auto& site : start.hbm_error_sites) last_sites_[{site.stack, site.channel}] = {site.ce, site.ue};
}

bool StepRunner::setup_gemm() {
  auto settings = parse_gemm_settings(StepParams(spec_.params()));
  if (!settings) {
    reject(settings.error().message, false);
    return false;
  }
  gemm_ = std::move(settings).value();
  if (gemm_.verify == Verify::vote) {
    const auto member = context_.vote != nullptr ? context_.vote->member(chip_.identity().serial) : std::nullopt;
    if (!member) {
      reject("verify: vote needs the phase's chips to vote together, and this chip has no board", true);
      return false;
    }
    vote_member_ = *member;
  }
  if (!dtype_supported(gemm_.work.dtype)) return false;
  kind_ = Kind::gemm;
  return true;
}

bool StepRunner::dtype_supported(device::DType dtype) {
  const auto& peaks = chip_.sku().peak_tflops;
  const auto peak = peaks.find(dtype);
  if (peak != peaks.end() && peak->second > 0) return true;
  reject(fmt::format("dtype {} is not supported by SKU {}", device::to_string(dtype), chip_.sku().name), true);
  return false;
}

double StepRunner::tick_limit_s() const {
  double limit = remaining_s();
  if (kind_ == Kind::shmoo && sweep_) limit = std::min(limit, sweep_->to_next_point(elapsed_s_));
  if (kind_ == Kind::collective && collective_.sizes.size() > 1) {
    // A tick stays within one size of the sweep.
    const double segment = duration_s_ / static_cast<double>(collective_.sizes.size());
    const double end = static_cast<double>(collective_size_at(elapsed_s_) + 1) * segment;
    if (end - elapsed_s_ > 1e-9 * segment) limit = std::min(limit, end - elapsed_s_);
  }
  return limit;
}

void StepRunner::reject(const std::string& note, bool unsupported) {
  result_.set_unsupported(unsupported);
  finish(false, note);
}

void StepRunner::work(Seconds share, Seconds tick) {
  if (done_ || pending_error_) return;
  switch (kind_) {
    case Kind::gemm:
      if (gemm_.verify == Verify::abft) {
        run_verified_gemm(gemm_.work, share);
      } else if (gemm_.verify == Verify::golden || gemm_.verify == Verify::vote) {
        run_compared_gemm(share);
      } else {
        tick_flops_ += chip_.run_gemm(gemm_.work, share).flops;
        ++gemm_slices_;
      }
      break;
    case Kind::hbm: work_hbm(share); break;
    case Kind::shmoo: work_shmoo(share); break;
    case Kind::power: work_power(share, tick); break;
    case Kind::collective: work_collective(share); break;
    case Kind::idle: break;
  }
}

void StepRunner::run_verified_gemm(const device::GemmWork& work, Seconds share) {
  device::GemmSlice slice = chip_.run_gemm(work, share);
  ++gemm_slices_;
  tick_flops_ += slice.flops;
  if (slice.check) {
    // A real backend checked its whole output itself (device/cpu_abft.hpp).
    tiles_verified_ += slice.check->gemms_checked;
    for (const auto& c : slice.check->corruptions) tick_corruptions_.push_back(c);
    tick_unreported_corruptions_ += slice.check->corrupted - slice.check->corruptions.size();
    tick_unlocalized_ += slice.check->unlocalized;
  }
  if (!slice.tile) return;

  auto report = verify_abft(*slice.tile);
  if (!report) {
    // A malformed tile is a backend defect: the step cannot vouch for its
    // results, so it will not count as completed.
    if (tile_errors_++ == 0) first_tile_error_ = report.error().message;
    return;
  }
  ++tiles_verified_;
  tick_findings_.insert(tick_findings_.end(), report->findings.begin(), report->findings.end());
  if (report->unlocalized) ++tick_unlocalized_;
}

void StepRunner::record_findings(const Moment& at) {
  for (const AbftFinding& f : tick_findings_) {
    ++state_.sdc_errors;
    detections_.record(kSdc, kSdcMetric,
                       {{"core", f.core}, {"pe_row", f.pe_row}, {"pe_col", f.pe_col}, {"bit", f.bit}}, 1, at);
  }
  for (const device::GemmCorruption& c : tick_corruptions_) {
    ++state_.sdc_errors;
    detections_.record(kSdc, kSdcMetric, {{"row", c.row}, {"col", c.col}, {"bit", c.bit}}, 1, at,
                       "output element off its ABFT recomputation");
  }
  if (tick_unreported_corruptions_ > 0) {
    state_.sdc_errors += tick_unreported_corruptions_;
    detections_.record(kSdc, kSdcMetric, {}, tick_unreported_corruptions_, at,
                       "more corrupted elements than a slice lists");
  }
  tick_corruptions_.clear();
  tick_unreported_corruptions_ = 0;
  if (tick_unlocalized_ > 0) {
    // At least one corrupted element per tile whose checksums disagreed.
    state_.sdc_errors += tick_unlocalized_;
    detections_.record(kSdc, kSdcMetric, {}, tick_unlocalized_, at,
                       "ABFT checksums disagreed but the corrupted element could not be localized");
  }
  tick_findings_.clear();
  tick_unlocalized_ = 0;
}

void StepRunner::watch_health(const device::Telemetry& t, const Moment& at) {
  const double critical = chip_.sku().critical_c;
  if (t.temperature_c && critical > 0 && *t.temperature_c >= critical) {
    detections_.record({metrics::FailureClass::thermal, kiln::v1::DETECTION_CRITICAL_TEMPERATURE}, "temperature_c", {}, 1, at,
                       "critical temperature");
  }
  // ECC errors where the backend says where they were; the rest unlocated.
  double located_ue = 0;
  for (const auto& site : t.hbm_error_sites) {
    auto& [ce_before, ue_before] = last_sites_[{site.stack, site.channel}];
    const Location where{{"stack", site.stack}, {"channel", site.channel}};
    if (site.ce > ce_before) {
      detections_.record({metrics::FailureClass::memory_ce_excess, kiln::v1::DETECTION_ERROR_COUNT}, "hbm_ce", where, static_cast<std::uint64_t>(std::llround(site.ce - ce_before)),
                         at);
    }
    if (site.ue > ue_before) {
      located_ue += site.ue - ue_before;
      detections_.record({metrics::FailureClass::memory_ue, kiln::v1::DETECTION_UNCORRECTABLE}, "hbm_ue", where, static_cast<std::uint64_t>(std::llround(site.ue - ue_before)), at);
    }
    ce_before = site.ce;
    ue_before = site.ue;
  }
  if (t.hbm_ue) {
    const double before = last_hbm_ue_.value_or(0);
    const double unlocated = *t.hbm_ue - before - located_ue;
    if (unlocated > 0.5) {
      detections_.record({metrics::FailureClass::memory_ue, kiln::v1::DETECTION_UNCORRECTABLE}, "hbm_ue", {}, static_cast<std::uint64_t>(std::llround(unlocated)), at);
    }
    last_hbm_ue_ = t.hbm_ue;
  }
  if (last_link_up_.size() < t.links.size()) {
    last_link_up_.resize(t.links.size());
    link_seen_down_.resize(t.links.size(), false);
  }
  for (std::size_t i = 0; i < t.links.size(); ++i) {
    const auto& up = t.links[i].up;
    if (!up) continue;
    link_state_known_ = true;
    if (!*up) link_seen_down_[i] = true;
    // A link seen down counts once per going-down (or once if it was
    // already down when the step began), not once per sample.
    const bool was_up = !last_link_up_[i] || *last_link_up_[i];
    if (!*up && was_up) {
      detections_.record({metrics::FailureClass::link_down, kiln::v1::DETECTION_LINK_DROPPED}, fmt::format("link{}_up", i), {{"link", static_cast<std::int64_t>(i)}}, 1, at);
    }
    last_link_up_[i] = up;
  }
}

void StepRunner::observe(Seconds tick, const device::Telemetry& t, std::int64_t wall_unix_ms, Outbox& outbox) {
  if (done_) return;
  elapsed_s_ += tick.count();
  const Moment at{elapsed_s_, wall_unix_ms, &t};
  if (pending_error_) {
    auto [note, unsupported] = *pending_error_;
    result_.set_unsupported(unsupported);
    finish(false, note);
    return;
  }
  // Pattern figures first: a shmoo takes its tiles' findings as failing
  // points before record_findings() would count them as SDC.
  MetricValues values = telemetry_values(t);
  if (kind_ == Kind::shmoo) observe_shmoo(at, values);
  if (kind_ == Kind::hbm) observe_hbm(at, tick.count(), values);
  if (kind_ == Kind::collective) observe_collective(at, t, values);
  if (kind_ == Kind::power && t.power_w) power_->update(power_loaded_, *t.power_w);
  record_findings(at);

  kiln::v1::Sample sample;
  sample.set_serial(result_.serial());
  sample.set_run_id(context_.run_id);
  sample.set_step_index(spec_.step_index());
  sample.set_t_s(elapsed_s_);
  sample.set_wall_unix_ms(wall_unix_ms);
  if (kind_ == Kind::gemm || kind_ == Kind::power) {
    // Useful work per chip second of the whole tick: parallel steps each
    // report the throughput they got.
    if (tick.count() > 0) values.emplace_back("tflops", tick_flops_ / tick.count() / 1e12);
    if (kind_ == Kind::gemm && gemm_.verify != Verify::none) {
      values.emplace_back(kSdcMetric, static_cast<double>(state_.sdc_errors));
    }
  }
  tick_flops_ = 0;
  for (const auto& [name, value] : values) {
    summaries_.add(name, value);
    auto* mv = sample.add_values();
    mv->set_name(name);
    mv->set_value(value);
  }
  outbox.push_sample(std::move(sample));

  if (t.throttled) {
    ++throttle_known_;
    if (*t.throttled) ++throttled_ticks_;
  }
  watch_health(t, at);

  if (chip_.hung()) {
    // The chip made no progress: the step ends here. It ran as far as the
    // chip let it, so it is "completed"; the hang detection fails the chip.
    detections_.record({metrics::FailureClass::hang, kiln::v1::DETECTION_HANG}, "", {}, 1, at, "the chip stopped making progress");
    finish(true, "chip hung");
    return;
  }
  if (stall_note_) {
    finish(false, "");  // finish_collective() puts the stall first in the note
    return;
  }
  if (collective_done_) {
    finish(true, "");
    return;
  }
  // Ticks are cut to the remaining time, so only rounding is left here.
  if (remaining_s() <= 1e-9 * std::max(1.0, duration_s_)) finish(true, "");
}

void StepRunner::abort(const std::string& note) {
  if (!done_) finish(false, note);
}

void StepRunner::finish(bool completed, std::string note) {
  done_ = true;
  if (kind_ == Kind::shmoo) finish_shmoo(completed, note);
  finish_collective(completed, note);  // also leaves the rendezvous after a reject
  // A normal end (not a hang) vouches for verification only if it happened.
  finish_compared(completed, note);  // also leaves the vote board after a reject
  const bool verified = (kind_ == Kind::gemm && gemm_.verify != Verify::none) || kind_ == Kind::shmoo;
  if (completed && verified && (note.empty() || kind_ == Kind::shmoo) && !chip_.hung()) {
    if (tile_errors_ > 0) {
      completed = false;
      note = join_notes(note, fmt::format("abft could not check {} of {} tiles: {}", tile_errors_,
                                          tile_errors_ + tiles_verified_, first_tile_error_));
    } else if (tiles_verified_ == 0 && gemm_slices_ > 0) {
      completed = false;
      note = join_notes(note, fmt::format("{}: the chip returned no verification tile", to_string(gemm_.verify)));
    }
  }
  if (tile_errors_ > 0) spdlog::warn("{}: step {}: {}", result_.serial(), spec_.name(), first_tile_error_);
  // Per-step figures of the registry's common metrics, one value each.
  if (throttle_known_ > 0) {
    summaries_.add("throttle_fraction", static_cast<double>(throttled_ticks_) / static_cast<double>(throttle_known_));
  }
  if (link_state_known_) {
    summaries_.add("link_down",
                   static_cast<double>(std::count(link_seen_down_.begin(), link_seen_down_.end(), true)));
  }
  result_.set_completed(completed);
  result_.set_note(std::move(note));
  result_.set_ran_s(elapsed_s_);
  summaries_.write_to(*result_.mutable_metrics());
  detections_.write_to(result_);
}

}  // namespace kiln::agent
