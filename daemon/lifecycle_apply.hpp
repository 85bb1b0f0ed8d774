#pragma once
// What kilnd's lifecycle keeper does with one recorded run, on the writer
// thread (docs/lifecycle.md): each chip's verdict and failure classes become
// evidence, the policy decides, the circuit breaker may hold the run's
// quarantines, drift and slot findings are looked for, and every change is
// recorded (record, transition, events) in the writer's transaction.

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "lifecycle/policy.hpp"
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

// `reader` reads what is committed (the run, its chips and steps, histories);
// `writer` reads and writes the lifecycle records in its transaction.
Result<AppliedRun> apply_run(store::Writer& writer, store::Reader& reader, std::uint64_t run_id,
                             const lifecycle::LifecyclePolicy& policy, std::int64_t now_unix_ms);

// A person sets `serial` to `state` (sticky unless hand_back). Returns the transition.
Result<store::TransitionRow> apply_person_state(store::Writer& writer, const std::string& serial,
                                                const std::string& state, const std::string& actor,
                                                const std::string& reason, bool hand_back, std::int64_t now_unix_ms);

}  // namespace kiln::daemon
