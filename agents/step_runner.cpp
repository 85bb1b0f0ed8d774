#include "agents/step_runner.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "agents/collective_rendezvous.hpp"
#include "agents/patterns/pattern_factory.hpp"
#include "agents/telemetry_values.hpp"
#include "agents/vote_board.hpp"
#include "metrics/catalog.hpp"
#include "testplans/param_wire.hpp"
#include "testplans/pattern_registry.hpp"

namespace kiln::agent {

std::string join_notes(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "; " + b;
}

bool PatternEnv::at_end() const { return remaining_s() <= 1e-9 * std::max(1.0, duration_s); }

StepRunner::StepRunner(device::Chip& chip, const kiln::v1::StepSpec& spec, const StepContext& context,
                       ChipRunState& state, Outbox& outbox)
    : chip_(chip),
      spec_(spec),
      context_(context),
      state_(state),
      outbox_(outbox),
      env_{chip_, spec_, context_, state_, detections_, summaries_, 0, 0},
      chunker_(chip_.identity().serial, context_.run_id, spec_.step_index()) {
  result_.set_serial(chip_.identity().serial);
  result_.set_run_id(context_.run_id);
  result_.set_step_index(spec_.step_index());

  if (!std::isfinite(spec_.duration_s()) || spec_.duration_s() < 0) {
    reject({fmt::format("invalid duration {} s", spec_.duration_s()), false});
    return;
  }
  env_.duration_s = spec_.duration_s();
  if (auto skip = build_pattern()) {
    reject(*skip);
    return;
  }
  const device::Telemetry start = chip_.telemetry();
  if (auto skip = pattern_->init(start)) {
    reject(*skip);
    return;
  }
  ready_ = true;

  // Counters start the summary with their value when the step began, so
  // that max − min is what this step added (they are cumulative per run).
  for (const auto& [name, value] : counter_values(start)) summaries_.add(name, value);
  last_hbm_ue_ = start.hbm_ue;
  for (const auto& site : start.hbm_error_sites) last_sites_[{site.stack, site.channel}] = {site.ce, site.ue};
}

StepRunner::~StepRunner() = default;

std::optional<Skip> StepRunner::build_pattern() {
  // The registry says what the pattern is and which params it takes; the
  // factory, how this agent runs it. The agent trusts no peer: every value
  // is checked against the same ParamSpec the plan loader used.
  const plan::PatternRegistry& registry =
      context_.registry != nullptr ? *context_.registry : plan::PatternRegistry::builtin();
  const PatternFactory& factory = context_.factory != nullptr ? *context_.factory : PatternFactory::builtin();
  const plan::PatternSpec* declared = registry.find(spec_.pattern());
  const PatternEntry* entry = factory.find(spec_.pattern());
  if (declared == nullptr || entry == nullptr) {
    return Skip{fmt::format("pattern {} is not supported by the {} backend yet", spec_.pattern(), context_.backend),
                true};
  }
  auto params = plan::read_params(spec_.params());
  if (!params) return Skip{params.error().message, false};
  if (auto checked = plan::check_params(*declared, *params); !checked) return Skip{checked.error().message, false};
  pattern_ = entry->make(env_, *params);
  return std::nullopt;
}

double StepRunner::tick_limit_s() const {
  const double remaining = remaining_s();
  return ready_ ? pattern_->tick_limit_s(remaining) : remaining;
}

void StepRunner::reject(const Skip& skip) {
  result_.set_unsupported(skip.unsupported);
  finish({false, skip.note});
}

void StepRunner::work(Seconds share, Seconds tick) {
  if (done_ || pending_error_ || !ready_) return;
  pending_error_ = pattern_->run(share, tick);
}

void StepRunner::watch_health(const device::Telemetry& t, const Moment& at) {
  const double critical = chip_.sku().critical_c;
  if (t.temperature_c && critical > 0 && *t.temperature_c >= critical) {
    detections_.record({metrics::FailureClass::thermal, kiln::v1::DETECTION_CRITICAL_TEMPERATURE},
                       metrics::kTemperatureC, {}, 1, at, "critical temperature");
  }
  // ECC errors where the backend says where they were; the rest unlocated.
  constexpr Finding kCe{metrics::FailureClass::memory_ce_excess, kiln::v1::DETECTION_ERROR_COUNT};
  constexpr Finding kUe{metrics::FailureClass::memory_ue, kiln::v1::DETECTION_UNCORRECTABLE};
  double located_ue = 0;
  for (const auto& site : t.hbm_error_sites) {
    auto& [ce_before, ue_before] = last_sites_[{site.stack, site.channel}];
    const Location where{{"stack", site.stack}, {"channel", site.channel}};
    if (site.ce > ce_before) {
      detections_.record(kCe, metrics::kHbmCe, where, static_cast<std::uint64_t>(std::llround(site.ce - ce_before)),
                         at);
    }
    if (site.ue > ue_before) {
      located_ue += site.ue - ue_before;
      detections_.record(kUe, metrics::kHbmUe, where, static_cast<std::uint64_t>(std::llround(site.ue - ue_before)),
                         at);
    }
    ce_before = site.ce;
    ue_before = site.ue;
  }
  if (t.hbm_ue) {
    const double before = last_hbm_ue_.value_or(0);
    const double unlocated = *t.hbm_ue - before - located_ue;
    if (unlocated > 0.5) {
      detections_.record(kUe, metrics::kHbmUe, {}, static_cast<std::uint64_t>(std::llround(unlocated)), at);
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
      detections_.record({metrics::FailureClass::link_down, kiln::v1::DETECTION_LINK_DROPPED},
                         metrics::link_metric(metrics::kLinkUpOf, static_cast<int>(i)),
                         {{"link", static_cast<std::int64_t>(i)}}, 1, at);
    }
    last_link_up_[i] = up;
  }
}

void StepRunner::record(const MetricValues& values, std::int64_t wall_unix_ms) {
  if (chunker_.values() == 0) chunk_opened_wall_ms_ = wall_unix_ms;
  if (value_slots_.size() < values.size()) value_slots_.resize(values.size());
  const std::uint32_t tick = chunker_.tick(TelemetryChunker::time_us(env_.elapsed_s), wall_unix_ms);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const MetricValue& v = values[i];
    ValueSlot& slot = value_slots_[i];
    // A name is the same storage tick after tick: the pointer says so first.
    const bool same = slot.name.data() == v.name.data() ? slot.name.size() == v.name.size() : slot.name == v.name;
    if (slot.summary == nullptr || !same) {
      slot.name = v.name;
      slot.chunk_slot = chunker_.metric(v.name);
      slot.summary = &summaries_.at(v.name);
    }
    slot.summary->add(v.value);
    chunker_.add_at(slot.chunk_slot, tick, v.value);
  }
  if (chunker_.full() || wall_unix_ms - chunk_opened_wall_ms_ >= kChunkWallMs) push_chunk();
}

void StepRunner::push_chunk() {
  if (chunker_.values() > 0) outbox_.push_chunk(chunker_.take());
}

void StepRunner::observe(Seconds tick, const device::Telemetry& t, std::int64_t wall_unix_ms) {
  if (done_) return;
  env_.elapsed_s += tick.count();
  const Moment at{env_.elapsed_s, wall_unix_ms, &t};
  if (pending_error_) {
    reject(*pending_error_);
    return;
  }
  telemetry_values(t, values_);
  pattern_->observe(at, tick, t, values_);
  record(values_, wall_unix_ms);

  if (t.throttled) {
    ++throttle_known_;
    if (*t.throttled) ++throttled_ticks_;
  }
  watch_health(t, at);

  if (chip_.hung()) {
    // The chip made no progress: the step ends here. It ran as far as the
    // chip let it, so it is "completed"; the hang detection fails the chip.
    detections_.record({metrics::FailureClass::hang, kiln::v1::DETECTION_HANG}, "", {}, 1, at,
                       "the chip stopped making progress");
    finish({true, "chip hung"});
    return;
  }
  if (auto end = pattern_->ended()) {
    finish(std::move(*end));
    return;
  }
  // Ticks are cut to the remaining time, so only rounding is left here.
  if (env_.at_end()) finish({true, ""});
}

void StepRunner::abort(const std::string& note) {
  if (!done_) finish({false, note});
}

void StepRunner::release_boards(const std::string& note) {
  // A step that never got its pattern going must not be waited for by the
  // phase's other chips: leave by serial, whether it had joined or not.
  const std::string& serial = chip_.identity().serial;
  if (context_.collective != nullptr) {
    if (const auto member = context_.collective->member(serial)) {
      context_.collective->leave(spec_.step_index(), *member, note, false);
    }
  }
  if (context_.vote != nullptr) {
    if (const auto member = context_.vote->member(serial)) context_.vote->leave(spec_.step_index(), *member);
  }
}

void StepRunner::finish(StepEnd end) {
  done_ = true;
  push_chunk();  // the step's last telemetry goes out before its result
  if (ready_) {
    pattern_->finish(end, result_);
  } else {
    release_boards(end.note);
  }
  // Per-step figures of the registry's common metrics, one value each.
  if (throttle_known_ > 0) {
    summaries_.add(metrics::kThrottleFraction,
                   static_cast<double>(throttled_ticks_) / static_cast<double>(throttle_known_));
  }
  if (link_state_known_) {
    summaries_.add(metrics::kLinkDown,
                   static_cast<double>(std::count(link_seen_down_.begin(), link_seen_down_.end(), true)));
  }
  result_.set_completed(end.completed);
  result_.set_note(std::move(end.note));
  result_.set_ran_s(env_.elapsed_s);
  summaries_.write_to(*result_.mutable_metrics());
  detections_.write_to(result_);
}

}  // namespace kiln::agent
