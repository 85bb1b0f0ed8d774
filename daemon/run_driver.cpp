#include "daemon/run_driver.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "testplans/param_wire.hpp"

namespace kiln::daemon {

namespace {
// Wall time allowed beyond a phase's scaled length before missing results are
// given up on (an agent that keeps its connection but stops reporting).
constexpr double kDeadlineSlack = 3.0;
constexpr double kDeadlineFloorS = 30.0;
// After an abort, how long the agents have to report what their chips
// measured until they stopped (a tick, a flush and a commit, normally).
constexpr auto kAbortGrace = std::chrono::seconds(10);
}  // namespace

RunDriver::RunDriver(const RunContext& context, std::unique_ptr<Run> run, Ended ended)
    : context_(context), run_(std::move(run)), ended_callback_(std::move(ended)), deadline_(context.executor) {}

RunDriver::~RunDriver() {
  deadline_.cancel();
  for (auto& [rack, timer] : return_deadlines_) timer->cancel();
}

void RunDriver::start() {
  Run& run = *run_;
  const std::uint64_t id = run.id;
  if (!run.resumed) {
    record("the run's start", [id](store::Writer& w) { return w.set_run_status(id, "running", "", unix_ms_now()); });
  }
  load_baselines();
  if (run.resumed && run.phase_pos >= run.phases.size()) {
    finish_run("completed", "");  // the earlier daemon recorded every verdict but not the end
    return;
  }
  spdlog::info("run {} {}", id,
               run.resumed ? fmt::format("resumed at phase {}/{}", run.phase_pos + 1, run.phases.size())
                           : fmt::format("started on {}", fmt::join(run.racks, ",")));
  dispatch_phase();
}

void RunDriver::load_baselines() {
  const Run& run = *run_;
  auto rows = std::make_shared<std::vector<store::BaselineRow>>();
  const std::uint64_t id = run.id;
  const std::string plan_name = run.plan->name;
  context_.writer.submit(
      [rows, plan_name, id](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*rows, w.baselines(plan_name, id));
        return {};
      },
      [weak = weak_from_this(), rows, id](const Status& status) {
        if (!status.ok()) spdlog::warn("run {}: baselines not loaded: {}", id, status.error().message);
        auto self = weak.lock();
        if (!self) return;
        for (const auto& row : *rows) {
          BaselineReference& ref = self->run_->baselines[row.serial][row.step_name];
          ref.run_id = row.run_id;
          ref.avg[row.metric] = row.avg;
          ref.max[row.metric] = row.max;
        }
      });
}

kiln::v1::Envelope RunDriver::make_dispatch(const std::string& rack,
                                            const std::vector<const plan::FlatStep*>& steps) const {
  const Run& run = *run_;
  kiln::v1::Envelope envelope;
  auto* dispatch = envelope.mutable_phase_dispatch();
  dispatch->set_run_id(run.id);
  dispatch->set_phase_index(run.phases[run.phase_pos]);
  dispatch->set_repeat_index(steps.front()->repeat_index);
  dispatch->set_seed(run.seed);
  dispatch->set_sample_hz(run.plan->sample_hz);
  // The lease is the fencing token: an agent refuses a dispatch older than the newest it saw.
  if (auto lease = run.leases.find(rack); lease != run.leases.end()) dispatch->set_fencing_token(lease->second);
  for (const auto* s : steps) {
    auto* spec = dispatch->add_steps();
    spec->set_step_index(s->step_index);
    spec->set_name(s->step->name);
    spec->set_pattern(s->step->pattern);
    spec->set_duration_s(s->step->duration.count());
    plan::write_params(s->step->values, *spec->mutable_params());
  }
  return envelope;
}

void RunDriver::dispatch_phase() {
  Run& run = *run_;
  run.expected.clear();
  run.results.clear();
  run.phase_progress_s = 0;
  run.phase_samples = 0;
  run.watches.clear();
  run.earlier_attempts.clear();
  run.rerun_notes.clear();
  run.phase_starts = run.counters;
  const auto steps = phase_steps(run, run.phase_pos);

  std::map<std::string, kiln::v1::Envelope> per_rack;
  for (const auto& chip : run.chips) {
    if (run.lost_racks.contains(chip.rack)) continue;
    auto [it, fresh] = per_rack.try_emplace(chip.rack);
    if (fresh) it->second = make_dispatch(chip.rack, steps);
    it->second.mutable_phase_dispatch()->add_serials(chip.serial);
    for (const auto* s : steps) run.expected.insert({chip.serial, s->step_index});
  }
  for (auto& [rack, envelope] : per_rack) {
    // An away rack's chips keep their place: the phase goes to its agent
    // when it registers again (on_rack_registered).
    if (run.away_racks.contains(rack)) continue;
    if (const ConnectedRack* connected = context_.agents.find(rack))
      run.rack_epochs[rack] = connected->registration.epoch();
    if (!context_.agents.send(rack, std::move(envelope))) mark_away(rack);
  }
  std::vector<std::string> names;
  for (const auto* s : steps) names.push_back(s->step->name);
  spdlog::info("run {}: phase {}/{} ({}) dispatched to {} chips", run.id, run.phase_pos + 1, run.phases.size(),
               fmt::join(names, " + "), run.expected.size() / std::max<std::size_t>(1, steps.size()));
  if (run.expected.empty()) {
    finish_phase("not run: agent lost", Verdict::error);
    return;
  }
  arm_deadline();
}

void RunDriver::redispatch_rack(const std::string& rack, bool restarted) {
  Run& run = *run_;
  const auto steps = phase_steps(run, run.phase_pos);
  kiln::v1::Envelope envelope = make_dispatch(rack, steps);
  for (const auto& chip : run.chips) {
    if (chip.rack != rack) continue;
    bool owes = false;
    for (const auto* s : steps) owes = owes || run.expected.contains({chip.serial, s->step_index});
    if (!owes) continue;
    envelope.mutable_phase_dispatch()->add_serials(chip.serial);
    if (!restarted) continue;
    // A new agent process starts the chip afresh: the step is run again
    // from its start, and what the first attempt's samples showed is kept.
    run.counters.erase(chip.serial);
    run.phase_starts.erase(chip.serial);
    for (const auto* s : steps) {
      const auto key = std::make_pair(chip.serial, s->step_index);
      if (!run.expected.contains(key)) continue;
      if (auto node = run.watches.extract(key)) {
        run.earlier_attempts.erase(key);  // a second restart: the latest attempt's samples are the ones kept
        run.earlier_attempts.insert(std::move(node));
      }
      run.rerun_notes[key] = fmt::format("rerun from its start after the agent of rack {} restarted", rack);
    }
  }
  const int serials = envelope.phase_dispatch().serials_size();
  if (serials == 0) return;  // its chips owe nothing of this phase
  spdlog::info("run {}: phase {}/{} dispatched again to {} chip(s) of rack {}{}", run.id, run.phase_pos + 1,
               run.phases.size(), serials, rack, restarted ? " (its agent restarted: rerun)" : "");
  if (!context_.agents.send(rack, std::move(envelope))) {
    mark_away(rack);
    return;
  }
  arm_deadline();
}

void RunDriver::mark_away(const std::string& rack) {
  Run& run = *run_;
  if (run.lost_racks.contains(rack) || !run.away_racks.insert(rack).second) return;
  spdlog::warn("run {}: rack {} has no agent; waiting up to {:g} s for it to register again", run.id, rack,
               static_cast<double>(context_.rack_return_timeout.count()) / 1000.0);
  auto& timer = return_deadlines_[rack];
  if (!timer) timer = std::make_unique<boost::asio::steady_timer>(context_.executor);
  timer->expires_after(context_.rack_return_timeout);
  timer->async_wait([weak = weak_from_this(), rack](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->ended_ || !self->run_->away_racks.contains(rack)) return;
    self->rack_gone(rack);
  });
}

void RunDriver::rack_gone(const std::string& rack) {
  Run& run = *run_;
  run.away_racks.erase(rack);
  run.lost_racks.insert(rack);
  const std::string reason = fmt::format("the agent of rack {} did not register again within {:g} s", rack,
                                         static_cast<double>(context_.rack_return_timeout.count()) / 1000.0);
  run.lost_reasons[rack] = reason;
  spdlog::warn("run {}: {}; its chips get verdict error", run.id, reason);
  if (std::all_of(run.racks.begin(), run.racks.end(), [&](const auto& r) { return run.lost_racks.contains(r); })) {
    run.give_up_reason = reason;
  }
  bool removed = false;
  for (auto it = run.expected.begin(); it != run.expected.end();) {
    const RunChip* chip = find_chip(run, it->first);
    if (chip != nullptr && chip->rack == rack) {
      it = run.expected.erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  if (removed && run.expected.empty()) finish_phase(reason, Verdict::error);
}

void RunDriver::arm_deadline() {
  const Run& run = *run_;
  double slowest_scale = 1e9;
  for (const auto& rack : run.racks) {
    if (const ConnectedRack* r = context_.agents.find(rack)) {
      const double scale = r->registration.time_scale() > 0 ? r->registration.time_scale() : 1.0;
      slowest_scale = std::min(slowest_scale, scale);
    }
  }
  if (slowest_scale == 1e9) slowest_scale = 1.0;
  const double wall_s = phase_length(run, run.phase_pos) / slowest_scale * kDeadlineSlack + kDeadlineFloorS;
  deadline_.expires_after(std::chrono::milliseconds(static_cast<long long>(wall_s * 1000)));
  run_->samples_at_deadline = 0;
  wait_for_deadline(run.phase_pos);
}

void RunDriver::wait_for_deadline(std::size_t phase) {
  deadline_.async_wait([weak = weak_from_this(), phase](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->ended_ || self->run_->phase_pos != phase) return;
    Run& run = *self->run_;
    // A host that cannot keep up runs the simulation behind wall time: as
    // long as the chips' time still advances, the agents are working, so
    // wait on; give up only on a phase that stopped making progress.
    // Any sample counts: once the fastest chips have finished the phase,
    // the slower ones still report as they go. A rack waiting for its agent
    // to come back has its own deadline (mark_away).
    if (run.phase_samples > run.samples_at_deadline || !run.away_racks.empty()) {
      run.samples_at_deadline = run.phase_samples;
      self->deadline_.expires_after(std::chrono::milliseconds(static_cast<long long>(kDeadlineFloorS * 1000)));
      self->wait_for_deadline(phase);
      return;
    }
    spdlog::warn("run {}: phase {} overran its deadline; {} chip-step result(s) missing", run.id, phase + 1,
                 run.expected.size());
    self->finish_phase("no result from the agent within the phase deadline", Verdict::error);
  });
}

void RunDriver::on_batch_committed(const std::string& rack, const kiln::v1::AgentBatch& batch,
                                   const std::vector<store::ChunkDigest>& chunks) {
  if (ended_) return;
  Run& run = *run_;
  if (run.lost_racks.contains(rack)) return;
  // The live view judges each chip-step's samples so far, then the agent's
  // own result when it comes (the judge's rules, judge_so_far).
  std::set<std::pair<std::string, std::uint32_t>> watched;
  // The store refused any batch that speaks for another rack's chip; this
  // keeps the run's own bookkeeping to the same rule whatever the caller.
  const auto owned = [&](const std::string& serial) {
    const RunChip* chip = find_chip(run, serial);
    return chip != nullptr && chip->rack == rack;
  };
  for (const auto& sample : batch.samples()) {
    if (sample.run_id() != run.id || !owned(sample.serial())) continue;
    run.phase_progress_s = std::max(run.phase_progress_s, sample.t_s());
    ++run.phase_samples;
    const auto key = std::make_pair(sample.serial(), sample.step_index());
    if (!run.expected.contains(key)) continue;  // not this phase's, or its result is in
    kiln::v1::ChipStepResult identity;
    identity.set_serial(sample.serial());
    identity.set_run_id(run.id);
    identity.set_step_index(sample.step_index());
    auto [it, fresh] = run.watches.try_emplace(key, identity, run.phase_starts[sample.serial()], context_.catalog);
    it->second.add(sample, run.counters[sample.serial()]);
    watched.insert(key);
  }
  // Agent-encoded chunks: the store's digest of each (its samples judged
  // there as they were decoded), watched as the samples above are.
  for (const store::ChunkDigest& chunk : chunks) {
    if (chunk.run_id != run.id || !owned(chunk.serial)) continue;
    run.phase_progress_s = std::max(run.phase_progress_s, chunk.last_t_s);
    run.phase_samples += chunk.samples;
    const auto key = std::make_pair(chunk.serial, chunk.step_index);
    if (!run.expected.contains(key)) continue;
    kiln::v1::ChipStepResult identity;
    identity.set_serial(chunk.serial);
    identity.set_run_id(run.id);
    identity.set_step_index(chunk.step_index);
    auto [it, fresh] = run.watches.try_emplace(key, identity, run.phase_starts[chunk.serial], context_.catalog);
    it->second.add(chunk, run.counters[chunk.serial]);
    watched.insert(key);
  }
  for (const auto& key : watched) watch(run.watches.at(key).partial());
  bool changed = false;
  for (const auto& result : batch.results()) {
    if (result.run_id() != run.id || !owned(result.serial())) continue;
    const auto key = std::make_pair(result.serial(), result.step_index());
    if (!run.expected.erase(key)) continue;  // late, duplicate or not ours
    run.results[key] = result;
    watch(result);
    changed = true;
  }
  if (changed && run.expected.empty()) finish_phase("", Verdict::error);
}

void RunDriver::on_rack_registered(const kiln::v1::RegisterRack& registration) {
  if (ended_) return;
  Run& run = *run_;
  const std::string& rack = registration.rack();
  if (!has_rack(run, rack)) return;
  if (run.lost_racks.contains(rack)) {
    spdlog::info("run {}: rack {} registered after the run gave it up; it takes no further part", run.id, rack);
    return;
  }
  for (auto& chip : run.chips) {
    if (chip.rack != rack) continue;
    for (const auto& c : registration.chips()) {
      if (c.serial() == chip.serial) chip.peaks = {c.peaks().begin(), c.peaks().end()};
    }
  }
  if (run.away_racks.erase(rack) > 0) {
    if (auto timer = return_deadlines_.find(rack); timer != return_deadlines_.end()) timer->second->cancel();
  }
  std::uint64_t& known = run.rack_epochs[rack];
  const bool restarted = known != 0 && known != registration.epoch();
  known = registration.epoch();
  if (restarted) {
    run.interruptions.push_back(fmt::format("the agent of rack {} restarted during phase {}/{}; its chips reran it",
                                            rack, run.phase_pos + 1, run.phases.size()));
  }
  redispatch_rack(rack, restarted);
}

void RunDriver::on_rack_lost(const std::string& rack) {
  if (ended_ || !has_rack(*run_, rack)) return;
  mark_away(rack);
}

void RunDriver::send_abort(const std::string& reason) const {
  for (const auto& rack : run_->racks) {
    kiln::v1::Envelope envelope;
    envelope.mutable_phase_abort()->set_run_id(run_->id);
    envelope.mutable_phase_abort()->set_reason(reason);
    context_.agents.send(rack, std::move(envelope));
  }
}

void RunDriver::on_write_failed(const std::string& reason) {
  if (ended_) return;  // its end already says error (finish_run's job saw the failure)
  // What is measured from here on could not be recorded either: stop the
  // agents and end the run as an infrastructure error, with the reason.
  send_abort(reason);
  finish_run("error", reason);
}

void RunDriver::end_for(const std::string& reason) {
  if (ended_) return;
  spdlog::warn("run {}: {}", run_->id, reason);
  send_abort(reason);
  // Judged on what arrived, the rest recorded as not run: as when every rack is lost.
  run_->give_up_reason = reason;
  finish_phase(reason, Verdict::error);
}

void RunDriver::on_stopping() const {
  spdlog::info("run {} interrupted at phase {}/{}: kilnd is stopping; it resumes when kilnd starts again", run_->id,
               run_->phase_pos + 1, run_->phases.size());
}

Status RunDriver::abort(const std::string& reason) {
  const std::string why = reason.empty() ? "aborted by user" : reason;
  Run& run = *run_;
  send_abort(why);
  if (run.abort_reason) return {};  // already stopping: its agents are reporting
  spdlog::info("run {} aborted: {}", run.id, why);
  // The agents end their steps within a tick and report what each chip
  // measured and detected until then; the phase is judged on that once it
  // is in (on_batch_committed), so nothing found is lost to an abort. What
  // has not come within the grace is judged on its samples; the phases
  // after this one are recorded as not run.
  run.abort_reason = why;
  deadline_.expires_after(kAbortGrace);
  const std::size_t phase = run.phase_pos;
  deadline_.async_wait([weak = weak_from_this(), phase, why](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->ended_ || self->run_->phase_pos != phase) return;
    spdlog::warn("run {}: {} chip-step result(s) did not come after the abort", self->run_->id,
                 self->run_->expected.size());
    self->finish_phase(fmt::format("run aborted: {}", why), Verdict::inconclusive);
  });
  return {};
}

RunProgress RunDriver::progress() const {
  const Run& run = *run_;
  std::vector<std::string> names;
  for (const auto* s : phase_steps(run, run.phase_pos)) names.push_back(s->step->name);
  const double phase_len = phase_length(run, run.phase_pos);
  RunProgress p;
  p.state = RunProgress::State::running;
  p.phase = static_cast<std::uint32_t>(run.phase_pos + 1);
  p.phases = static_cast<std::uint32_t>(run.phases.size());
  p.step = fmt::format("{}", fmt::join(names, " + "));
  p.elapsed_s = run.elapsed_before_phase_s + std::min(run.phase_progress_s, phase_len);
  p.total_s = run.total_s;
  for (const auto& [serial, concern] : run.concerns) {
    p.concerns.push_back(
        RunProgress::Concern{serial, concern.so_far.state == SoFar::State::failed, concern.so_far.reason});
  }
  p.lost_racks.assign(run.lost_racks.begin(), run.lost_racks.end());
  p.lost_racks.insert(p.lost_racks.end(), run.away_racks.begin(), run.away_racks.end());
  return p;
}

}  // namespace kiln::daemon
