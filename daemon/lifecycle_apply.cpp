#include "daemon/lifecycle_apply.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "lifecycle/circuit_breaker.hpp"
#include "lifecycle/transitions.hpp"
#include "reports/chip_drift.hpp"
#include "reports/chip_lifecycle.hpp"

namespace kiln::daemon {
namespace {

using lifecycle::ChipRecord;
using lifecycle::ChipState;
using lifecycle::Outcome;

Outcome outcome_of(const std::string& verdict) {
  if (verdict == "pass") return Outcome::clean;
  if (verdict == "marginal") return Outcome::marginal;
  if (verdict == "fail") return Outcome::failed;
  return Outcome::not_judged;  // error, inconclusive, none: never the chip's fault
}

ChipRecord to_record(const store::LifecycleRow& row) {
  ChipRecord r;
  r.state = lifecycle::parse_chip_state(row.state).value_or(ChipState::unknown);
  r.set_by_person = row.set_by_person;
  r.clean_streak = row.clean_streak;
  r.retests_run = row.retests_run;
  r.retests_failed = row.retests_failed;
  r.episode_run = row.episode_run_id;
  return r;
}

store::LifecycleRow to_row(const std::string& serial, const ChipRecord& r, std::int64_t now) {
  store::LifecycleRow row;
  row.serial = serial;
  row.state = std::string(lifecycle::to_string(r.state));
  row.set_by_person = r.set_by_person;
  row.clean_streak = r.clean_streak;
  row.retests_run = r.retests_run;
  row.retests_failed = std::min(r.retests_failed, r.retests_run);
  row.episode_run_id = r.episode_run;
  row.updated_unix_ms = now;
  return row;
}

// A new seed for retest `index` after run `run_id`: derived, so that the
// same evidence always asks for the same retests.
std::uint64_t new_seed(std::uint64_t seed, std::uint64_t run_id, std::uint32_t index) {
  std::uint64_t z = seed ^ (run_id << 20) ^ (static_cast<std::uint64_t>(index) + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (z ^ (z >> 31)) & 0x7fffffffffffffffULL;
}

Status event(store::Writer& w, std::uint64_t run_id, const std::string& serial, const std::string& kind,
             const nlohmann::json& detail, std::int64_t now) {
  store::EventRow e;
  e.run_id = run_id;
  e.serial = serial;
  e.kind = kind;
  e.actor = kLifecycleActor;
  e.detail_json = detail.dump();
  e.unix_ms = now;
  return w.add_event(e);
}

struct ChipPlan {
  store::RunChipRow chip;
  ChipRecord before;
  lifecycle::Decision decision;
};

// A drift alarm this run raised (not one already raised by an earlier run).
Result<std::vector<lifecycle::DriftFinding>> new_drift(reports::DriftReader& drift, const std::string& serial,
                                                       std::uint64_t run_id, std::uint64_t previous_run) {
  KILN_TRY_ASSIGN(auto now, drift.chip(serial, run_id));
  std::vector<lifecycle::DriftFinding> out;
  for (const auto& f : now.history) {
    if (f.alarm && f.since_run == run_id) out.push_back(f);
  }
  bool any_peer = false;
  for (const auto& f : now.peers) any_peer |= f.alarm;
  if (!any_peer) return out;
  std::set<std::string> before;
  if (previous_run != 0) {
    KILN_TRY_ASSIGN(auto then, drift.chip(serial, previous_run));
    for (const auto& f : then.peers) {
      if (f.alarm) before.insert(f.figure);
    }
  }
  for (const auto& f : now.peers) {
    if (f.alarm && !before.contains(f.figure)) out.push_back(f);
  }
  return out;
}

}  // namespace

Result<RunFacts> read_run_facts(store::Reader& reader, std::uint64_t run_id) {
  RunFacts facts;
  KILN_TRY_ASSIGN(facts.run, reader.run(run_id));
  KILN_TRY_ASSIGN(facts.chips, reader.run_chips(run_id));
  KILN_TRY_ASSIGN(const auto chip_steps, reader.chip_steps(run_id));
  KILN_TRY_ASSIGN(const auto events, reader.events(run_id, 0, 0));
  KILN_TRY_ASSIGN(facts.plan_text, reader.plan_text(run_id));
  for (const auto& cs : chip_steps) {
    for (const auto& f : cs.failures) {
      if (auto c = metrics::parse_failure_class(f.cls)) facts.classes[cs.serial].push_back(*c);
    }
  }
  for (const auto& e : events) {
    if (e.kind == "lifecycle_retest") facts.retested.insert(e.serial);
  }
  KILN_TRY_ASSIGN(const auto inventory, reader.chips());
  for (const auto& c : inventory) ++facts.population[c.sku];
  KILN_TRY_ASSIGN(const auto states, reader.lifecycle_states());
  std::map<std::string, std::string> state_of;
  for (const auto& st : states) state_of[st.serial] = st.state;

  reports::DriftReader drift(reader);
  for (const auto& chip : facts.chips) {
    const Outcome outcome = outcome_of(chip.verdict);
    if (outcome == Outcome::not_judged) continue;
    const std::string& serial = chip.serial;
    if (outcome == Outcome::clean) {
      KILN_TRY_ASSIGN(auto history, reader.chip_history(serial));
      std::uint64_t previous = 0;
      for (const auto& h : history) {
        if (h.run_id < run_id && outcome_of(h.verdict) != Outcome::not_judged) previous = h.run_id;
      }
      KILN_TRY_ASSIGN(auto alarms, new_drift(drift, serial, run_id, previous));
      if (!alarms.empty()) facts.drift[serial] = std::move(alarms);
    }
    // Chip or slot: looked for where the chip is in trouble.
    if (outcome == Outcome::clean &&
        (state_of[serial] == "healthy" || state_of[serial] == "unknown" || state_of[serial].empty())) {
      continue;
    }
    KILN_TRY_ASSIGN(auto now_runs, reports::slot_runs(reader, serial, run_id));
    const auto finding = lifecycle::points_at_slot(now_runs, serial);
    if (!finding) continue;
    std::optional<lifecycle::SlotFinding> earlier;
    if (run_id > 1) {
      KILN_TRY_ASSIGN(auto before_runs, reports::slot_runs(reader, serial, run_id - 1));
      earlier = lifecycle::points_at_slot(before_runs, serial);
    }
    facts.slot[serial] = *finding;
    if (!earlier || earlier->rack != finding->rack || earlier->slot != finding->slot) facts.new_slot.insert(serial);
  }
  return facts;
}

Result<std::vector<std::uint64_t>> runs_to_catch_up(store::Reader& reader) {
  KILN_TRY_ASSIGN(const auto events, reader.events(0, 0, 0));
  std::uint64_t last = 0;
  for (const auto& e : events) {
    if (e.kind == "lifecycle_applied") last = std::max(last, e.run_id);
  }
  std::vector<std::uint64_t> out;
  if (last == 0) return out;
  KILN_TRY_ASSIGN(const auto runs, reader.list_runs());
  for (const auto& r : runs) {
    if (r.id > last && store::is_terminal_run_status(r.status)) out.push_back(r.id);
  }
  return out;
}

Result<AppliedRun> apply_run(store::Writer& writer, const RunFacts& facts, const lifecycle::LifecyclePolicy& policy,
                             std::int64_t now) {
  const store::RunRow& run = facts.run;
  const std::uint64_t run_id = run.id;
  AppliedRun applied;
  applied.run_id = run_id;

  std::vector<ChipPlan> plans;
  std::map<std::string, std::uint32_t> proposed;  // SKU → quarantines the run would make
  for (const auto& chip : facts.chips) {
    KILN_TRY_ASSIGN(const auto row, writer.lifecycle(chip.serial));
    lifecycle::RunEvidence evidence;
    evidence.run_id = run_id;
    evidence.outcome = outcome_of(chip.verdict);
    const auto classes = facts.classes.find(chip.serial);
    if (classes != facts.classes.end()) evidence.classes = classes->second;
    evidence.retest = facts.retested.contains(chip.serial);
    evidence.seed = run.seed;
    evidence.plan_hash = run.plan_sha256;
    ChipPlan plan{chip, to_record(row), {}};
    plan.decision = lifecycle::apply_evidence(plan.before, evidence, policy);
    if (plan.decision.transition && plan.decision.transition->to == ChipState::quarantined) ++proposed[chip.sku];
    plans.push_back(std::move(plan));
  }

  // The circuit breaker: too many quarantines of one SKU at once is a broken plan or lab.
  const auto breaker = lifecycle::check_circuit_breaker(run_id, proposed, facts.population, policy);
  if (breaker.tripped) {
    applied.breaker = breaker.reason;
    KILN_TRY(event(writer, run_id, "", "lifecycle_breaker",
                   {{"reason", breaker.reason}, {"held_skus", breaker.held_skus}}, now));
  }
  const std::set<std::string> held(breaker.held_skus.begin(), breaker.held_skus.end());

  for (auto& plan : plans) {
    lifecycle::Decision& d = plan.decision;
    const std::string& serial = plan.chip.serial;
    if (d.transition && d.transition->to == ChipState::quarantined && held.contains(plan.chip.sku)) {
      // Held: the chip keeps its state and record; the evidence stays in the run.
      applied.notes.push_back(fmt::format("{}: quarantine held by the circuit breaker", serial));
      continue;
    }
    if (!d.note.empty()) applied.notes.push_back(fmt::format("{}: {}", serial, d.note));

    // Drift makes a healthy chip suspect (an alarm this run raised).
    const auto alarms = facts.drift.find(serial);
    if (alarms != facts.drift.end() && !d.next.set_by_person && d.next.state == ChipState::healthy) {
      std::string reasons;
      for (const auto& a : alarms->second) {
        reasons += (reasons.empty() ? "" : "; ") + a.reason;
        KILN_TRY(event(writer, run_id, serial, "lifecycle_drift", {{"figure", a.figure}, {"reason", a.reason}}, now));
      }
      d.next.state = ChipState::suspect;
      d.next.clean_streak = 0;
      d.next.retests_run = 0;
      d.next.retests_failed = 0;
      d.next.episode_run = run_id;
      d.transition = lifecycle::Transition{plan.before.state,
                                           ChipState::suspect,
                                           kLifecycleActor,
                                           fmt::format("drift in run {}: {}; suspect until {} clean passes", run_id,
                                                       reasons, policy.healthy_after_clean_passes),
                                           run_id,
                                           run.plan_sha256};
      d.retests.clear();
      for (std::uint32_t i = 0; i < policy.retests(); ++i) {
        const bool same = i < policy.retests_same_seed;
        d.retests.push_back({same ? run.seed : 0, fmt::format("retest {} of {} ({} run {})", i + 1, policy.retests(),
                                                              same ? "same seed as" : "new seed after", run_id)});
      }
    }

    // Chip or slot: an event when the evidence first shows it; every transition says it.
    std::string slot_note;
    if (const auto finding = facts.slot.find(serial); finding != facts.slot.end()) {
      slot_note = fmt::format("points at the slot {}/{}, not the chip: {}", finding->second.rack, finding->second.slot,
                              finding->second.reason);
      if (facts.new_slot.contains(serial)) {
        KILN_TRY(event(writer, run_id, serial, "lifecycle_slot",
                       {{"rack", finding->second.rack}, {"slot", finding->second.slot}, {"reason", slot_note}}, now));
        applied.notes.push_back(fmt::format("{}: {}", serial, slot_note));
      }
    }

    std::optional<store::TransitionRow> transition;
    if (d.transition) {
      store::TransitionRow t;
      t.serial = serial;
      t.from_state = std::string(lifecycle::to_string(d.transition->from));
      t.to_state = std::string(lifecycle::to_string(d.transition->to));
      t.actor = kLifecycleActor;
      t.reason = d.transition->reason + (slot_note.empty() ? "" : "; " + slot_note);
      t.run_id = run_id;
      t.plan_sha256 = run.plan_sha256;
      t.unix_ms = now;
      transition = t;
    }
    KILN_TRY(writer.record_lifecycle(to_row(serial, d.next, now), transition));
    if (transition) applied.transitions.push_back(*transition);

    // Retests, gathered per rack and seed: one run of the rack serves every chip that asked.
    for (std::uint32_t i = 0; i < d.retests.size(); ++i) {
      const auto& ask = d.retests[i];
      const std::uint64_t seed = ask.seed != 0 ? ask.seed : new_seed(run.seed, run_id, i);
      RetestPlan* found = nullptr;
      for (auto& r : applied.retests) {
        if (r.rack == plan.chip.rack && r.seed == seed) found = &r;
      }
      if (found == nullptr) {
        applied.retests.push_back(
            RetestPlan{run_id, plan.chip.rack, facts.plan_text, run.plan_path, seed, ask.why, {}});
        found = &applied.retests.back();
      }
      found->serials.push_back(serial);
    }
  }
  // Said in the same transaction as the records: a restarted kilnd applies
  // the runs recorded after the last one that says so (LifecycleKeeper::catch_up).
  KILN_TRY(event(writer, run_id, "", "lifecycle_applied",
                 {{"transitions", applied.transitions.size()}, {"retests", applied.retests.size()}}, now));
  return applied;
}

Result<store::TransitionRow> apply_person_state(store::Writer& writer, const std::string& serial,
                                                const std::string& state, const std::string& actor,
                                                const std::string& reason, bool hand_back, std::int64_t now) {
  const auto parsed = lifecycle::parse_chip_state(state);
  if (!parsed) {
    return make_error(ErrorCode::invalid_argument,
                      "no lifecycle state \"{}\" (unknown, healthy, suspect, quarantined, rma, retired, maintenance)",
                      state);
  }
  if (reason.empty()) return make_error(ErrorCode::invalid_argument, "a person's state change needs a reason");
  KILN_TRY_ASSIGN(const auto row, writer.lifecycle(serial));
  const lifecycle::Decision d = lifecycle::apply_person(to_record(row), *parsed, actor, reason, !hand_back);
  store::TransitionRow t;
  t.serial = serial;
  t.from_state = row.state;
  t.to_state = std::string(lifecycle::to_string(*parsed));
  t.actor = actor.empty() ? std::string("unnamed") : actor;
  t.reason = hand_back ? fmt::format("{} (handed back to the policy)", reason) : reason;
  t.unix_ms = now;
  KILN_TRY(writer.record_lifecycle(to_row(serial, d.next, now), t));
  return t;
}

}  // namespace kiln::daemon
