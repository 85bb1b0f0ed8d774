#pragma once
// The lifecycle rules (docs/lifecycle.md) as one pure function: a chip's
// record and the evidence of one run in, its next record, the transition
// (if any) and the retests to schedule out. The daemon stores the record
// and the transitions; everything decided here is table-tested.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lifecycle/chip_state.hpp"
#include "lifecycle/policy.hpp"
#include "metrics/failure_class.hpp"

namespace kiln::lifecycle {

// What one run says about one chip, for its lifecycle. `not_judged` is an
// error or inconclusive verdict: an infrastructure problem is never charged
// to the chip.
enum class Outcome { clean, marginal, failed, not_judged };

struct RunEvidence {
  std::uint64_t run_id = 0;
  Outcome outcome = Outcome::clean;
  std::vector<metrics::FailureClass> classes;  // of a failed run
  bool retest = false;                         // the run was a lifecycle retest of this chip
  std::uint64_t seed = 0;
  std::string plan_hash;
};

// What is kept per serial between runs.
struct ChipRecord {
  ChipState state = ChipState::unknown;
  bool set_by_person = false;  // sticky: automation records evidence but does not move it
  std::uint32_t clean_streak = 0;
  // The current episode (since the chip became suspect or quarantined):
  std::uint32_t retests_run = 0;
  std::uint32_t retests_failed = 0;
  std::uint64_t episode_run = 0;  // the run that opened it
};

struct Transition {
  ChipState from = ChipState::unknown;
  ChipState to = ChipState::unknown;
  std::string actor;   // "policy" or the person's identity
  std::string reason;  // "sdc in run 14: quarantined", "failed 3 of 3 retests"
  std::uint64_t run_id = 0;
  std::string plan_hash;
};

struct RetestRequest {
  std::uint64_t seed = 0;  // 0: a new seed, chosen when scheduled
  std::string why;         // "retest 1 of 3 (same seed as run 14)"
};

struct Decision {
  ChipRecord next;
  std::optional<Transition> transition;
  std::vector<RetestRequest> retests;
  std::string note;  // said when nothing moved for a reason worth showing ("held: set by alice")
};

Decision apply_evidence(const ChipRecord& record, const RunEvidence& evidence, const LifecyclePolicy& policy);

// A person sets the state: it is sticky until a person changes it, or hands
// it back to the policy with `sticky` false.
Decision apply_person(const ChipRecord& record, ChipState state, const std::string& actor, const std::string& reason,
                      bool sticky = true);

// "failed 2 of 3 retests"
std::string retest_tally(const ChipRecord& record);

}  // namespace kiln::lifecycle
