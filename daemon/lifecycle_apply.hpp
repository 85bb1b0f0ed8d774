#pragma once
// What kilnd's lifecycle keeper does with one recorded run (docs/lifecycle.md),
// in two steps: read_run_facts, off the writer thread, reads what is
// committed (the run, its chips' verdicts and failure classes, which of them
// it retests, their drift and slot findings); apply_run, on the writer
// thread, reads each chip's record, lets the policy decide, lets the circuit
// breaker hold the run's quarantines, and records every change (record,
// transition, events) in the writer's transaction.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "lifecycle/drift.hpp"
#include "lifecycle/policy.hpp"
#include "lifecycle/slot_history.hpp"
#include "metrics/failure_class.hpp"
#include "schema/store.hpp"

namespace kiln::daemon {

// A retest run to submit: the evidence run's plan on one rack, with a seed.
struct RetestPlan {
  std::uint64_t episode_run = 0;
  std::string rack;
  std::string plan_text;
  std::string plan_path;
  std::uint64_t seed = 0;
  std::string why;                   // "retest 1 of 3 (same seed as run 14)"
  std::vector<std::string> serials;  // the chips it retests (the rack's others run it too)
};

struct AppliedRun {
  std::uint64_t run_id = 0;
  std::vector<store::TransitionRow> transitions;
  std::vector<std::string> notes;   // what was said without a transition (drift, slot, sticky)
  std::string breaker;              // non-empty: the circuit breaker held quarantines, and why
  std::vector<RetestPlan> retests;  // to submit
};

// The actor automatic transitions are recorded with.
inline constexpr const char* kLifecycleActor = "kilnd";

// What the store says of one recorded run, for the lifecycle.
struct RunFacts {
  store::RunRow run;
  std::vector<store::RunChipRow> chips;
  std::map<std::string, std::vector<metrics::FailureClass>> classes;  // serial → of its failures
  std::set<std::string> retested;                                     // chips this run retests
  std::map<std::string, std::uint32_t> population;                    // SKU → chips in the lab
  std::string plan_text;
  // Drift alarms this run raised (a passing chip's; others are not moved by drift).
  std::map<std::string, std::vector<lifecycle::DriftFinding>> drift;
  // Slot findings of judged chips that did not pass or are not healthy; `new_slot`: first said by this run.
  std::map<std::string, lifecycle::SlotFinding> slot;
  std::set<std::string> new_slot;
};

Result<RunFacts> read_run_facts(store::Reader& reader, std::uint64_t run_id);

// The runs whose end is recorded but whose lifecycle is not (a kilnd that
// stopped in between), oldest first: every ended run after the last one with
// a lifecycle_applied event. None when no run ever had its lifecycle applied
// (a database from before the lifecycle).
Result<std::vector<std::uint64_t>> runs_to_catch_up(store::Reader& reader);

// `facts` from read_run_facts; writes a lifecycle_applied event with the records. `writer` reads and writes the
// lifecycle records in its transaction.
Result<AppliedRun> apply_run(store::Writer& writer, const RunFacts& facts, const lifecycle::LifecyclePolicy& policy,
                             std::int64_t now_unix_ms);

// A person sets `serial` to `state` (sticky unless hand_back). Returns the transition.
Result<store::TransitionRow> apply_person_state(store::Writer& writer, const std::string& serial,
                                                const std::string& state, const std::string& actor,
                                                const std::string& reason, bool hand_back, std::int64_t now_unix_ms);

}  // namespace kiln::daemon
