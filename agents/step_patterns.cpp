// StepRunner's memory, shmoo and power patterns (step_runner.cpp holds the
// step's lifecycle, gemm and the health watches).
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "agents/pattern_settings.hpp"
#include "agents/step_runner.hpp"

namespace kiln::agent {
namespace {

constexpr const char* kMemoryErrors = "memory_errors";
constexpr const char* kShmooFailures = "shmoo_failures";

// Replaces telemetry's reading of `name` (the chip's view of its last
// slice) with the step's own figure for the whole tick.
void put_own(MetricValues& values, const char* name, double value) {
  std::erase_if(values, [&](const auto& v) { return v.first == name; });
  values.emplace_back(name, value);
}

}  // namespace

bool StepRunner::setup_hbm() {
  auto work = parse_hbm_settings(StepParams(spec_.params()));
  if (!work) {
    reject(work.error().message, false);
    return false;
  }
  memory_ = *work;
  kind_ = Kind::hbm;
  return true;
}

bool StepRunner::setup_shmoo() {
  auto settings = parse_shmoo_settings(StepParams(spec_.params()));
  if (!settings) {
    reject(settings.error().message, false);
    return false;
  }
  if (!dtype_supported(settings->gemm.dtype)) return false;
  shmoo_gemm_ = settings->gemm;
  sweep_.emplace(std::move(settings->voltages_mv), std::move(settings->clocks_mhz), duration_s_);
  kind_ = Kind::shmoo;
  return true;
}

bool StepRunner::setup_power() {
  auto settings = parse_power_settings(StepParams(spec_.params()));
  if (!settings) {
    reject(settings.error().message, false);
    return false;
  }
  const double target = settings->target_w > 0 ? settings->target_w : chip_.sku().tdp_w;
  if (!(target > 0)) {
    reject(fmt::format("target_w: 0 means TDP, and SKU {} declares none", chip_.sku().name), false);
    return false;
  }
  power_.emplace(target, settings->pulse_hz, chip_.sku().idle_w);
  // Plain multiplies of the gemm default: the load, not the results, matters.
  gemm_.work = device::GemmWork{};
  gemm_.work.functional = false;
  gemm_.verify = Verify::none;
  kind_ = Kind::power;
  return true;
}

void StepRunner::work_hbm(Seconds share) {
  auto slice = chip_.run_memory(memory_, share);
  if (!slice) {
    // The chip did not spend the time; idle it so that every step of the
    // phase still sees the same chip clock.
    chip_.idle(share);
    pending_error_.emplace(slice.error().message, slice.error().code == ErrorCode::unavailable);
    return;
  }
  tick_bytes_ += slice->bytes;
  tick_memory_errors_ += slice->mismatch_count;
  tick_mismatches_.insert(tick_mismatches_.end(), slice->mismatches.begin(), slice->mismatches.end());
}

void StepRunner::observe_hbm(const Moment& at, double tick_s, MetricValues& values) {
  // Each listed mismatch is a distinct (stack, channel, bit, address); a
  // detection is per (stack, channel, bit), counting its addresses.
  std::map<std::tuple<int, int, int>, std::uint64_t> by_location;
  for (const auto& m : tick_mismatches_) ++by_location[{m.stack, m.channel, m.bit}];
  for (const auto& [where, count] : by_location) {
    const auto [stack, channel, bit] = where;
    // A host has no stack or channel (-1): its bit is the location.
    Location location;
    if (stack >= 0) location.emplace_back("stack", stack);
    if (channel >= 0) location.emplace_back("channel", channel);
    location.emplace_back("bit", bit);
    detections_.record({metrics::FailureClass::memory_pattern, kiln::v1::DETECTION_CORRUPTION}, kMemoryErrors, location, count, at);
  }
  state_.memory_errors += tick_memory_errors_;
  if (tick_s > 0) put_own(values, "hbm_gbps", tick_bytes_ / tick_s / 1e9);
  values.emplace_back(kMemoryErrors, static_cast<double>(state_.memory_errors));
  tick_bytes_ = 0;
  tick_memory_errors_ = 0;
  tick_mismatches_.clear();
}

void StepRunner::work_shmoo(Seconds share) {
  const std::size_t point = sweep_->point_at(elapsed_s_);
  if (!shmoo_started_ || point != shmoo_point_) {
    shmoo_started_ = true;
    shmoo_point_ = point;
    const Status set = chip_.set_operating_point(sweep_->voltage_mv(point), sweep_->clock_mhz(point));
    if (set.ok()) shmoo_point_set_ = true;
    if (!set.ok()) {
      if (set.error().code != ErrorCode::invalid_argument) {
        chip_.idle(share);
        pending_error_.emplace(set.error().message, set.error().code == ErrorCode::unavailable);
        return;
      }
      // Outside what the chip accepts: a hole in the map, not a failure.
      // The refused point's time is idled at stock, not at the last point.
      sweep_->mark(point, PointOutcome::refused);
      if (shmoo_point_set_) chip_.clear_operating_point();
      shmoo_point_set_ = false;
      if (first_refusal_.empty()) first_refusal_ = set.error().message;
    }
  }
  if (sweep_->outcome(point) == PointOutcome::refused) {
    chip_.idle(share);
    return;
  }
  run_verified_gemm(shmoo_gemm_, share);
  shmoo_ran_ = true;
}

void StepRunner::observe_shmoo(const Moment& at, MetricValues& values) {
  if (shmoo_ran_) {
    const bool failed = !tick_findings_.empty() || tick_unlocalized_ > 0;
    const bool was_failed = sweep_->outcome(shmoo_point_) == PointOutcome::fail;
    sweep_->mark(shmoo_point_, failed ? PointOutcome::fail : PointOutcome::pass);
    if (failed && !was_failed) {
      detections_.record({metrics::FailureClass::margin, kiln::v1::DETECTION_POINT_FAILED}, kShmooFailures,
                         {{"voltage_mv", std::llround(sweep_->voltage_mv(shmoo_point_))},
                          {"clock_mhz", std::llround(sweep_->clock_mhz(shmoo_point_))}},
                         1, at);
    }
  }
  // Corruption past a point's margin is what a shmoo measures, not SDC.
  tick_findings_.clear();
  tick_unlocalized_ = 0;
  shmoo_ran_ = false;
  values.emplace_back(kShmooFailures, static_cast<double>(sweep_->failures()));
}

void StepRunner::finish_shmoo(bool& completed, std::string& note) {
  if (shmoo_point_set_) chip_.clear_operating_point();
  shmoo_point_set_ = false;
  sweep_->write_to(*result_.mutable_shmoo());
  std::string summary = fmt::format("shmoo: {} of {} point(s) failed", sweep_->failures(), sweep_->size());
  if (sweep_->refused() > 0) {
    summary += fmt::format("; {} point(s) refused by the chip ({})", sweep_->refused(), first_refusal_);
  }
  const std::size_t tested = sweep_->size() - sweep_->refused();
  if (completed && tiles_verified_ == 0) {
    // Nothing was measured: no map to vouch for (every point refused, or
    // the step had no time).
    completed = false;
    summary += tested == 0 ? "; the chip accepted none of the points" : "; no point was tested";
  }
  summaries_.add(kShmooFailures, static_cast<double>(sweep_->failures()));
  note = join_notes(note, summary);
}

void StepRunner::work_power(Seconds share, Seconds tick) {
  power_loaded_ = power_->next_tick_loaded(elapsed_s_, tick.count());
  if (power_loaded_) {
    tick_flops_ += chip_.run_gemm(gemm_.work, share).flops;
    ++gemm_slices_;
  } else {
    chip_.idle(share);
  }
}

}  // namespace kiln::agent
