#include "lifecycle/transitions.hpp"

#include <gtest/gtest.h>

namespace kiln::lifecycle {
namespace {

using metrics::FailureClass;
using S = ChipState;

RunEvidence run(std::uint64_t id, Outcome outcome, std::vector<FailureClass> classes = {}, bool retest = false) {
  return RunEvidence{id, outcome, std::move(classes), retest, 1000 + id, "plan-hash"};
}

// One step of the table: the evidence of a run and the state it must leave.
struct Step {
  RunEvidence evidence;
  ChipState expected;
};

struct Story {
  const char* name;
  ChipState start;
  std::vector<Step> steps;
};

class LifecycleTable : public ::testing::TestWithParam<Story> {};

TEST_P(LifecycleTable, EachRunLeavesTheExpectedState) {
  const LifecyclePolicy policy = LifecyclePolicy::defaults();  // 3 retests, rma after 2 failed, healthy after 3
  ChipRecord record;
  record.state = GetParam().start;
  int i = 0;
  for (const Step& step : GetParam().steps) {
    const Decision d = apply_evidence(record, step.evidence, policy);
    EXPECT_EQ(d.next.state, step.expected) << "after step " << i << " (run " << step.evidence.run_id
                                           << "): " << (d.transition ? d.transition->reason : d.note);
    EXPECT_EQ(d.transition.has_value(), d.next.state != record.state) << "a change is always a recorded transition";
    record = d.next;
    ++i;
  }
}

const Story kStories[] = {
    {"first_pass_makes_healthy", S::unknown, {{run(1, Outcome::clean), S::healthy}}},
    {"sdc_quarantines_then_failed_retests_rma",
     S::healthy,
     {{run(1, Outcome::failed, {FailureClass::sdc}), S::quarantined},
      {run(2, Outcome::failed, {FailureClass::sdc}, true), S::quarantined},
      {run(3, Outcome::failed, {FailureClass::sdc}, true), S::rma}}},
    {"every_hard_class_quarantines_hang",
     S::unknown,
     {{run(1, Outcome::failed, {FailureClass::hang}), S::quarantined}}},
    {"link_down_among_soft_classes_quarantines",
     S::healthy,
     {{run(1, Outcome::failed, {FailureClass::thermal, FailureClass::link_down}), S::quarantined}}},
    {"marginal_suspect_then_three_clean_passes_healthy",
     S::healthy,
     {{run(1, Outcome::marginal), S::suspect},
      {run(2, Outcome::clean, {}, true), S::suspect},
      {run(3, Outcome::clean, {}, true), S::suspect},
      {run(4, Outcome::clean, {}, true), S::healthy}}},
    {"a_bad_pass_in_between_restarts_the_count",
     S::healthy,
     {{run(1, Outcome::failed, {FailureClass::underperforming}), S::suspect},
      {run(2, Outcome::clean, {}, true), S::suspect},
      {run(3, Outcome::clean, {}, true), S::suspect},
      {run(4, Outcome::marginal, {}, true), S::suspect},
      {run(5, Outcome::clean), S::suspect},
      {run(6, Outcome::clean), S::suspect},
      {run(7, Outcome::clean), S::healthy}}},
    {"suspect_that_fails_hard_is_quarantined",
     S::suspect,
     {{run(1, Outcome::failed, {FailureClass::memory_ue}), S::quarantined}}},
    {"intermittent_hard_fault_below_rma_threshold_is_suspect_after_retests",
     S::healthy,
     {{run(1, Outcome::failed, {FailureClass::sdc}), S::quarantined},
      {run(2, Outcome::failed, {FailureClass::sdc}, true), S::quarantined},
      {run(3, Outcome::clean, {}, true), S::quarantined},
      {run(4, Outcome::clean, {}, true), S::suspect},
      {run(5, Outcome::clean), S::healthy}}},
    {"infrastructure_errors_are_never_charged",
     S::healthy,
     {{run(1, Outcome::not_judged), S::healthy}, {run(2, Outcome::not_judged), S::healthy}}},
    {"a_non_retest_clean_run_does_not_release_quarantine",
     S::quarantined,
     {{run(1, Outcome::clean), S::quarantined}, {run(2, Outcome::clean), S::quarantined}}},
    {"rma_and_retired_stay", S::rma, {{run(1, Outcome::clean), S::rma}}},
};

INSTANTIATE_TEST_SUITE_P(Policy, LifecycleTable, ::testing::ValuesIn(kStories),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Lifecycle, QuarantineAsksForRetestsWithTheSameSeedThenNewOnes) {
  const Decision d = apply_evidence({}, run(14, Outcome::failed, {FailureClass::sdc}), LifecyclePolicy::defaults());
  ASSERT_TRUE(d.transition);
  EXPECT_EQ(d.transition->reason, "sdc in run 14: a hard failure quarantines");
  EXPECT_EQ(d.transition->actor, "policy");
  EXPECT_EQ(d.transition->plan_hash, "plan-hash");
  ASSERT_EQ(d.retests.size(), 3u);
  EXPECT_EQ(d.retests[0].seed, 1014u) << "the failing run's own seed first";
  EXPECT_EQ(d.retests[1].seed, 0u);
  EXPECT_EQ(d.retests[2].why, "retest 3 of 3 (new seed after run 14)");
}

TEST(Lifecycle, RmaReasonSaysFailedXOfY) {
  const LifecyclePolicy policy = LifecyclePolicy::defaults();
  ChipRecord r = apply_evidence({}, run(1, Outcome::failed, {FailureClass::sdc}), policy).next;
  r = apply_evidence(r, run(2, Outcome::clean, {}, true), policy).next;
  r = apply_evidence(r, run(3, Outcome::failed, {FailureClass::sdc}, true), policy).next;
  const Decision d = apply_evidence(r, run(4, Outcome::failed, {FailureClass::sdc}, true), policy);
  ASSERT_TRUE(d.transition);
  EXPECT_EQ(d.next.state, ChipState::rma);
  EXPECT_EQ(d.transition->reason, "failed 2 of 3 retests (episode from run 1): rma");
}

TEST(Lifecycle, AStateSetByAPersonIsStickyUntilAPersonChangesIt) {
  const LifecyclePolicy policy = LifecyclePolicy::defaults();
  Decision set = apply_person({}, ChipState::maintenance, "alice", "rework of the heat sink");
  EXPECT_EQ(set.transition->actor, "alice");
  ChipRecord r = set.next;
  for (auto evidence : {run(1, Outcome::failed, {FailureClass::sdc}), run(2, Outcome::clean)}) {
    const Decision d = apply_evidence(r, evidence, policy);
    EXPECT_EQ(d.next.state, ChipState::maintenance);
    EXPECT_FALSE(d.transition);
    EXPECT_NE(d.note.find("set by a person"), std::string::npos) << d.note;
    r = d.next;
  }
  // A person marks it healthy by hand: still sticky; handing it back lets the policy act.
  r = apply_person(r, ChipState::healthy, "alice", "", /*sticky=*/false).next;
  EXPECT_EQ(apply_evidence(r, run(3, Outcome::failed, {FailureClass::sdc}), policy).next.state, ChipState::quarantined);
}

TEST(Lifecycle, MarginalResultsCanBeIgnoredByPolicy) {
  LifecyclePolicy policy = LifecyclePolicy::defaults();
  policy.suspect_on_marginal = false;
  ChipRecord healthy;
  healthy.state = ChipState::healthy;
  EXPECT_EQ(apply_evidence(healthy, run(1, Outcome::marginal), policy).next.state, ChipState::healthy);
}

TEST(ChipState, NamesRoundTripAndWorkIsGivenOnlyToWorkingChips) {
  for (const char* name : {"unknown", "healthy", "suspect", "quarantined", "rma", "retired", "maintenance"}) {
    const auto s = parse_chip_state(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(to_string(*s), name);
  }
  EXPECT_FALSE(parse_chip_state("broken"));
  EXPECT_TRUE(takes_scheduled_work(ChipState::suspect));
  EXPECT_FALSE(takes_scheduled_work(ChipState::quarantined));
  EXPECT_FALSE(takes_scheduled_work(ChipState::maintenance));
}

}  // namespace
}  // namespace kiln::lifecycle
