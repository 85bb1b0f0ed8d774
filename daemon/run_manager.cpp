#include "daemon/run_manager.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "daemon/judge.hpp"
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

void WriteFailure::record(std::string what) {
  std::lock_guard lock(mutex_);
  if (!first_) first_ = std::move(what);
}

std::optional<std::string> WriteFailure::first() const {
  std::lock_guard lock(mutex_);
  return first_;
}

RunManager::RunManager(boost::asio::any_io_executor executor, IngestWriter& writer, AgentDirectory& agents,
                       const plan::PatternRegistry& registry, const metrics::MetricCatalog& catalog)
    : executor_(executor),
      writer_(writer),
      agents_(agents),
      registry_(registry),
      catalog_(catalog),
      deadline_(executor) {}

std::vector<const plan::FlatStep*> RunManager::phase_steps(const Run& run, std::size_t phase_pos) const {
  std::vector<const plan::FlatStep*> steps;
  for (const auto& s : run.steps) {
    if (s.phase_index == run.phases[phase_pos]) steps.push_back(&s);
  }
  return steps;
}

double RunManager::phase_length(const Run& run, std::size_t phase_pos) const {
  double length = 0;
  for (const auto* s : phase_steps(run, phase_pos)) length = std::max(length, s->step->duration.count());
  return length;
}

const plan::FlatStep* RunManager::find_step(const Run& run, std::uint32_t step_index) const {
  for (const auto& s : run.steps) {
    if (s.step_index == step_index) return &s;
  }
  return nullptr;
}

JudgeInput RunManager::judge_input(const Run& run, const RunChip& chip, const plan::FlatStep& step) const {
  JudgeInput in;
  in.step = step.step;
  in.step_index = step.step_index;
  in.peaks = &chip.peaks;
  in.catalog = &catalog_;
  if (auto b = run.baselines.find(chip.serial); b != run.baselines.end()) {
    if (auto found = b->second.find(step.step->name); found != b->second.end()) in.baseline = &found->second;
  }
  return in;
}

void RunManager::record(const Run& run, std::string what, IngestWriter::Job job) {
  const std::uint64_t id = run.id;
  writer_.submit(
      [job = std::move(job), failure = run.write_failure, what](store::Writer& w) -> Status {
        Status s = job(w);
        if (!s) failure->record(fmt::format("could not record {}: {}", what, s.error().message));
        return s;
      },
      [this, id, what](const Status& s) {
        if (!s) on_write_failed(id, fmt::format("could not record {}: {}", what, s.error().message));
      });
}

void RunManager::on_write_failed(std::uint64_t run_id, const std::string& reason) {
  spdlog::error("run {}: {}", run_id, reason);
  if (!active_ || active_->id != run_id) return;  // its end already says error (finish_run's job saw the failure)
  // What is measured from here on could not be recorded either: stop the
  // agents and end the run as an infrastructure error, with the reason.
  for (const auto& rack : active_->racks) {
    kiln::v1::Envelope envelope;
    envelope.mutable_phase_abort()->set_run_id(run_id);
    envelope.mutable_phase_abort()->set_reason(reason);
    agents_.send(rack, std::move(envelope));
  }
  finish_run("error", reason);
}

void RunManager::watch(Run& run, const kiln::v1::ChipStepResult& result) {
  const RunChip* chip = find_chip(run, result.serial());
  const plan::FlatStep* step = find_step(run, result.step_index());
  if (chip == nullptr || step == nullptr) return;
  JudgeInput in = judge_input(run, *chip, *step);
  in.result = &result;
  SoFar so_far = judge_so_far(in);
  if (so_far.state == SoFar::State::running) return;
  auto& concern = run.concerns[chip->serial];
  // A chip's concern only grows within a run: failed outranks over a limit.
  if (concern.judged || static_cast<int>(so_far.state) <= static_cast<int>(concern.so_far.state)) return;
  concern.so_far = std::move(so_far);
}

const RunChip* RunManager::find_chip(const Run& run, const std::string& serial) const {
  for (const auto& c : run.chips) {
    if (c.serial == serial) return &c;
  }
  return nullptr;
}

void RunManager::start_next() {
  if (active_ || queue_.empty()) return;
  active_ = std::move(queue_.front());
  queue_.pop_front();
  const std::uint64_t id = active_->id;
  if (!active_->resumed) {
    record(*active_, "the run's start",
           [id](store::Writer& w) { return w.set_run_status(id, "running", "", unix_ms_now()); });
  }
  load_baselines(*active_);
  if (active_->resumed && active_->phase_pos >= active_->phases.size()) {
    finish_run("completed", "");  // the earlier daemon recorded every verdict but not the end
    return;
  }
  spdlog::info("run {} {}", id,
               active_->resumed ? fmt::format("resumed at phase {}/{}", active_->phase_pos + 1, active_->phases.size())
                                : std::string("started"));
  dispatch_phase();
}

// Queued behind everything written so far; it is back (milliseconds) long
// before the first phase's results can be judged.
void RunManager::load_baselines(Run& run) {
  auto rows = std::make_shared<std::vector<store::BaselineRow>>();
  const std::uint64_t id = run.id;
  const std::string plan_name = run.plan->name;
  writer_.submit(
      [rows, plan_name, id](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*rows, w.baselines(plan_name, id));
        return {};
      },
      [this, rows, id](const Status& status) {
        if (!status.ok()) spdlog::warn("run {}: baselines not loaded: {}", id, status.error().message);
        if (!active_ || active_->id != id) return;
        for (const auto& row : *rows) {
          BaselineReference& ref = active_->baselines[row.serial][row.step_name];
          ref.run_id = row.run_id;
          ref.avg[row.metric] = row.avg;
          ref.max[row.metric] = row.max;
        }
      });
}

kiln::v1::Envelope RunManager::make_dispatch(const Run& run, const std::vector<const plan::FlatStep*>& steps) const {
  kiln::v1::Envelope envelope;
  auto* dispatch = envelope.mutable_phase_dispatch();
  dispatch->set_run_id(run.id);
  dispatch->set_phase_index(run.phases[run.phase_pos]);
  dispatch->set_repeat_index(steps.front()->repeat_index);
  dispatch->set_seed(run.seed);
  dispatch->set_sample_hz(run.plan->sample_hz);
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

void RunManager::dispatch_phase() {
  Run& run = *active_;
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
    if (fresh) it->second = make_dispatch(run, steps);
    it->second.mutable_phase_dispatch()->add_serials(chip.serial);
    for (const auto* s : steps) run.expected.insert({chip.serial, s->step_index});
  }
  for (auto& [rack, envelope] : per_rack) {
    // An away rack's chips keep their place: the phase goes to its agent
    // when it registers again (on_rack_registered).
    if (run.away_racks.contains(rack)) continue;
    if (const ConnectedRack* connected = agents_.find(rack)) run.rack_epochs[rack] = connected->registration.epoch();
    if (!agents_.send(rack, std::move(envelope))) mark_away(rack);
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

void RunManager::redispatch_rack(const std::string& rack, bool restarted) {
  Run& run = *active_;
  const auto steps = phase_steps(run, run.phase_pos);
  kiln::v1::Envelope envelope = make_dispatch(run, steps);
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
  if (!agents_.send(rack, std::move(envelope))) {
    mark_away(rack);
    return;
  }
  arm_deadline();
}

void RunManager::mark_away(const std::string& rack) {
  Run& run = *active_;
  if (run.lost_racks.contains(rack) || !run.away_racks.insert(rack).second) return;
  spdlog::warn("run {}: rack {} has no agent; waiting up to {:g} s for it to register again", run.id, rack,
               static_cast<double>(rack_return_timeout_.count()) / 1000.0);
  auto& timer = return_deadlines_[rack];
  if (!timer) timer = std::make_unique<boost::asio::steady_timer>(executor_);
  timer->expires_after(rack_return_timeout_);
  const std::uint64_t id = run.id;
  timer->async_wait([this, id, rack](const boost::system::error_code& ec) {
    if (ec || !active_ || active_->id != id || !active_->away_racks.contains(rack)) return;
    rack_gone(rack);
  });
}

void RunManager::rack_gone(const std::string& rack) {
  Run& run = *active_;
  run.away_racks.erase(rack);
  run.lost_racks.insert(rack);
  const std::string reason = fmt::format("the agent of rack {} did not register again within {:g} s", rack,
                                         static_cast<double>(rack_return_timeout_.count()) / 1000.0);
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

void RunManager::arm_deadline() {
  const Run& run = *active_;
  double slowest_scale = 1e9;
  for (const auto& rack : run.racks) {
    if (const ConnectedRack* r = agents_.find(rack)) {
      const double scale = r->registration.time_scale() > 0 ? r->registration.time_scale() : 1.0;
      slowest_scale = std::min(slowest_scale, scale);
    }
  }
  if (slowest_scale == 1e9) slowest_scale = 1.0;
  const double wall_s = phase_length(run, run.phase_pos) / slowest_scale * kDeadlineSlack + kDeadlineFloorS;
  deadline_.expires_after(std::chrono::milliseconds(static_cast<long long>(wall_s * 1000)));
  const std::uint64_t id = run.id;
  const std::size_t phase = run.phase_pos;
  active_->samples_at_deadline = 0;
  wait_for_deadline(id, phase);
}

void RunManager::wait_for_deadline(std::uint64_t id, std::size_t phase) {
  deadline_.async_wait([this, id, phase](const boost::system::error_code& ec) {
    if (ec || !active_ || active_->id != id || active_->phase_pos != phase) return;
    // A host that cannot keep up runs the simulation behind wall time: as
    // long as the chips' time still advances, the agents are working, so
    // wait on; give up only on a phase that stopped making progress.
    // Any sample counts: once the fastest chips have finished the phase,
    // the slower ones still report as they go. A rack waiting for its agent
    // to come back has its own deadline (mark_away).
    if (active_->phase_samples > active_->samples_at_deadline || !active_->away_racks.empty()) {
      active_->samples_at_deadline = active_->phase_samples;
      deadline_.expires_after(std::chrono::milliseconds(static_cast<long long>(kDeadlineFloorS * 1000)));
      wait_for_deadline(id, phase);
      return;
    }
    spdlog::warn("run {}: phase {} overran its deadline; {} chip-step result(s) missing", id, phase + 1,
                 active_->expected.size());
    finish_phase("no result from the agent within the phase deadline", Verdict::error);
  });
}

void RunManager::on_batch_committed(const std::string& rack, const kiln::v1::AgentBatch& batch) {
  if (!active_) return;
  Run& run = *active_;
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
    auto [it, fresh] = run.watches.try_emplace(key, identity, run.phase_starts[sample.serial()], catalog_);
    it->second.add(sample, run.counters[sample.serial()]);
    watched.insert(key);
  }
  for (const auto& key : watched) watch(run, run.watches.at(key).partial());
  bool changed = false;
  for (const auto& result : batch.results()) {
    if (result.run_id() != run.id || !owned(result.serial())) continue;
    const auto key = std::make_pair(result.serial(), result.step_index());
    if (!run.expected.erase(key)) continue;  // late, duplicate or not ours
    run.results[key] = result;
    watch(run, result);
    changed = true;
  }
  if (changed && run.expected.empty()) finish_phase("", Verdict::error);
}

void RunManager::on_rack_lost(const std::string& rack) {
  if (!active_ || stopping_) return;
  Run& run = *active_;
  if (std::find(run.racks.begin(), run.racks.end(), rack) == run.racks.end()) return;
  mark_away(rack);
}

void RunManager::on_rack_registered(const kiln::v1::RegisterRack& registration) {
  if (!active_ || stopping_) return;
  Run& run = *active_;
  const std::string& rack = registration.rack();
  if (std::find(run.racks.begin(), run.racks.end(), rack) == run.racks.end()) return;
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

void RunManager::on_stopping() {
  stopping_ = true;
  if (active_) {
    spdlog::info("run {} interrupted at phase {}/{}: kilnd is stopping; it resumes when kilnd starts again",
                 active_->id, active_->phase_pos + 1, active_->phases.size());
  }
}

void RunManager::finish_phase(const std::string& missing_reason, Verdict missing_verdict) {
  deadline_.cancel();
  Run& run = *active_;
  const auto steps = phase_steps(run, run.phase_pos);

  struct Decision {
    std::string serial;
    std::uint32_t step_index;
    Judgement judgement;
  };
  auto decisions = std::make_shared<std::vector<Decision>>();
  for (const auto* s : steps) {
    // Peers: the same step on chips of the same SKU in this run.
    std::map<std::string, std::vector<const kiln::v1::ChipStepResult*>> by_sku;
    for (const auto& chip : run.chips) {
      auto it = run.results.find({chip.serial, s->step_index});
      if (it != run.results.end()) by_sku[chip.sku].push_back(&it->second);
    }
    std::map<std::string, PeerReference> peers;
    for (const auto& [sku, results] : by_sku) peers[sku] = peer_reference(results);

    for (const auto& chip : run.chips) {
      auto it = run.results.find({chip.serial, s->step_index});
      JudgeInput in = judge_input(run, chip, *s);
      in.result = it == run.results.end() ? nullptr : &it->second;
      in.peers = &peers[chip.sku];
      in.missing_verdict = missing_verdict;
      const auto lost = run.lost_reasons.find(chip.rack);
      in.missing_reason = lost != run.lost_reasons.end()
                              ? lost->second
                              : (missing_reason.empty() ? std::string("no result") : missing_reason);
      Judgement j = judge(in);
      const auto key = std::make_pair(chip.serial, s->step_index);
      if (in.result == nullptr) {
        // No result (agent lost, deadline, abort): what its samples already
        // showed still fails the chip — nothing found is lost.
        if (auto watched = run.watches.find({chip.serial, s->step_index}); watched != run.watches.end()) {
          JudgeInput so_far = in;
          so_far.result = &watched->second.partial();
          so_far.so_far = true;
          Judgement seen = judge(so_far);
          if (seen.verdict == Verdict::fail) {
            seen.reason += fmt::format("; {} (judged on the samples that arrived)", in.missing_reason);
            j = std::move(seen);
          }
        }
      }
      if (auto first = run.earlier_attempts.find(key);
          first != run.earlier_attempts.end() && j.verdict != Verdict::fail) {
        // A rerun does not undo what the interrupted attempt showed.
        JudgeInput so_far = in;
        so_far.result = &first->second.partial();
        so_far.so_far = true;
        Judgement seen = judge(so_far);
        if (seen.verdict == Verdict::fail) {
          seen.reason += " (found before the agent restarted)";
          j = std::move(seen);
        }
      }
      if (auto note = run.rerun_notes.find(key); note != run.rerun_notes.end()) {
        j.reason = j.reason.empty() ? note->second : fmt::format("{}; {}", j.reason, note->second);
      }
      auto& chip_verdict = run.chip_verdicts.try_emplace(chip.serial, Verdict::pass).first->second;
      chip_verdict = worst(chip_verdict, j.verdict);
      if (j.verdict == Verdict::fail) {
        auto& concern = run.concerns[chip.serial];
        if (!concern.judged) concern = Run::Concern{SoFar{SoFar::State::failed, j.reason}, true};
      }
      decisions->push_back(Decision{chip.serial, s->step_index, std::move(j)});
    }
  }
  // What the live view said in this phase is replaced by the judge's word:
  // a chip over a limit so far that the judge did not fail is not failing.
  std::erase_if(run.concerns, [](const auto& entry) { return !entry.second.judged; });
  const std::uint64_t id = run.id;
  record(run, fmt::format("the verdicts of phase {}", run.phase_pos + 1), [id, decisions](store::Writer& w) -> Status {
    for (const auto& d : *decisions) {
      if (auto s = w.set_chip_step_verdict(id, d.step_index, d.serial, to_string(d.judgement.verdict),
                                           d.judgement.reason, d.judgement.failures);
          !s) {
        return s;
      }
    }
    return {};
  });

  run.elapsed_before_phase_s += phase_length(run, run.phase_pos);
  ++run.phase_pos;
  if (run.abort_reason) {
    mark_not_run(fmt::format("not run: run aborted: {}", *run.abort_reason), Verdict::inconclusive);
    finish_run("aborted", *run.abort_reason);
  } else if (run.give_up_reason) {
    mark_not_run(fmt::format("not run: {}", *run.give_up_reason), Verdict::error);
    finish_run("error", *run.give_up_reason);
  } else if (run.phase_pos < run.phases.size()) {
    dispatch_phase();
  } else {
    finish_run("completed", "");
  }
}

void RunManager::mark_not_run(const std::string& reason, Verdict verdict) {
  Run& run = *active_;
  auto rows = std::make_shared<std::vector<std::pair<std::string, std::uint32_t>>>();
  for (std::size_t pos = run.phase_pos; pos < run.phases.size(); ++pos) {
    for (const auto* s : phase_steps(run, pos)) {
      for (const auto& chip : run.chips) {
        rows->emplace_back(chip.serial, s->step_index);
        auto& v = run.chip_verdicts.try_emplace(chip.serial, Verdict::pass).first->second;
        v = worst(v, verdict);
      }
    }
  }
  const std::uint64_t id = run.id;
  record(run, "the steps not run", [id, rows, reason, verdict](store::Writer& w) -> Status {
    for (const auto& [serial, step] : *rows) {
      if (auto s = w.set_chip_step_verdict(id, step, serial, to_string(verdict), reason, {}); !s) return s;
    }
    return {};
  });
}

void RunManager::finish_run(const std::string& status, const std::string& given_reason) {
  deadline_.cancel();
  for (auto& [rack, timer] : return_deadlines_) timer->cancel();
  Run& run = *active_;
  // How the run got past its interruptions is part of how it ended.
  std::vector<std::string> story;
  if (!run.interruptions.empty()) {
    story.push_back(fmt::format("interrupted and resumed: {}", fmt::join(run.interruptions, "; ")));
  }
  for (const auto& [rack, lost] : run.lost_reasons) {
    if (!run.give_up_reason || lost != *run.give_up_reason) story.push_back(lost);
  }
  std::string reason = given_reason;
  if (!story.empty()) {
    const std::string told = fmt::format("{}", fmt::join(story, "; "));
    reason = reason.empty() ? told : fmt::format("{} ({})", reason, told);
  }
  auto verdicts = std::make_shared<std::map<std::string, Verdict>>(run.chip_verdicts);
  const std::uint64_t id = run.id;
  std::map<std::string, int> counts;
  for (const auto& chip : run.chips) {
    auto it = verdicts->try_emplace(chip.serial, Verdict::inconclusive).first;
    ++counts[to_string(it->second)];
  }
  writer_.submit(
      [id, verdicts, status, reason, failure = run.write_failure](store::Writer& w) -> Status {
        // Jobs run in order: an earlier write of this run that failed makes
        // this end an error with its reason, not the end it was meant to be.
        const auto failed = failure->first();
        if (!failed) {
          for (const auto& [serial, verdict] : *verdicts) {
            if (auto s = w.set_run_chip_verdict(id, serial, to_string(verdict)); !s) {
              return w.set_run_status(id, "error", fmt::format("could not record chip verdicts: {}", s.error().message),
                                      unix_ms_now());
            }
          }
        }
        return w.set_run_status(id, failed ? "error" : status, failed ? *failed : reason, unix_ms_now());
      },
      [this, id, status, reason, counts](const Status& s) {
        // Said once it is recorded, so that whoever reads the log and then the
        // database finds the same end.
        if (s) {
          spdlog::info("run {} {}{}: {}", id, status, reason.empty() ? "" : " (" + reason + ")",
                       fmt::join(counts, ", "));
          if (on_run_recorded) on_run_recorded(id);
        } else {
          // Nothing is left to fall back on: the database refuses the run's end.
          spdlog::critical("run {}: could not record its end: {}", id, s.error().message);
        }
      });
  active_.reset();
  start_next();
}

Status RunManager::abort(std::uint64_t run_id, const std::string& reason) {
  const std::string why = reason.empty() ? "aborted by user" : reason;
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if ((*it)->id != run_id) continue;
    queue_.erase(it);
    writer_.submit([run_id, why](store::Writer& w) { return w.set_run_status(run_id, "aborted", why, unix_ms_now()); },
                   [run_id](const Status& s) {
                     // It stays queued in the database; the next start marks it error.
                     if (!s) spdlog::error("run {}: could not record its abort: {}", run_id, s.error().message);
                   });
    return {};
  }
  if (!active_ || active_->id != run_id) {
    return make_error(ErrorCode::conflict, "run {} is not queued or running", run_id);
  }
  Run& run = *active_;
  for (const auto& rack : run.racks) {
    kiln::v1::Envelope envelope;
    envelope.mutable_phase_abort()->set_run_id(run_id);
    envelope.mutable_phase_abort()->set_reason(why);
    agents_.send(rack, std::move(envelope));
  }
  if (run.abort_reason) return {};  // already stopping: its agents are reporting
  spdlog::info("run {} aborted: {}", run_id, why);
  // The agents end their steps within a tick and report what each chip
  // measured and detected until then; the phase is judged on that once it
  // is in (on_batch_committed), so nothing found is lost to an abort. What
  // has not come within the grace is judged on its samples; the phases
  // after this one are recorded as not run.
  run.abort_reason = why;
  deadline_.expires_after(kAbortGrace);
  const std::size_t phase = run.phase_pos;
  deadline_.async_wait([this, run_id, phase, why](const boost::system::error_code& ec) {
    if (ec || !active_ || active_->id != run_id || active_->phase_pos != phase) return;
    spdlog::warn("run {}: {} chip-step result(s) did not come after the abort", run_id, active_->expected.size());
    finish_phase(fmt::format("run aborted: {}", why), Verdict::inconclusive);
  });
  return {};
}

std::optional<RunProgress> RunManager::progress(std::uint64_t run_id) const {
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (queue_[i]->id == run_id) {
      RunProgress queued;
      queued.queue_position = static_cast<std::uint32_t>(i + 1);
      return queued;
    }
  }
  if (!active_ || active_->id != run_id) return std::nullopt;
  const Run& run = *active_;
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
