#include "lifecycle/transitions.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace kiln::lifecycle {
namespace {

bool hard(const RunEvidence& evidence, const LifecyclePolicy& policy) {
  return std::any_of(evidence.classes.begin(), evidence.classes.end(),
                     [&](metrics::FailureClass c) { return policy.quarantine_on.count(c) != 0; });
}

std::string classes_text(const RunEvidence& evidence) {
  std::string out;
  for (const auto c : evidence.classes) out += (out.empty() ? "" : ", ") + std::string(to_string(c));
  return out.empty() ? "a failure" : out;
}

void open_episode(ChipRecord& record, const RunEvidence& evidence) {
  record.retests_run = 0;
  record.retests_failed = 0;
  record.episode_run = evidence.run_id;
  record.clean_streak = 0;
}

std::vector<RetestRequest> plan_retests(const RunEvidence& evidence, const LifecyclePolicy& policy) {
  std::vector<RetestRequest> out;
  const std::uint32_t total = policy.retests();
  for (std::uint32_t i = 0; i < total; ++i) {
    const bool same = i < policy.retests_same_seed;
    out.push_back({same ? evidence.seed : 0, fmt::format("retest {} of {} ({} run {})", i + 1, total,
                                                         same ? "same seed as" : "new seed after", evidence.run_id)});
  }
  return out;
}

Decision move(const ChipRecord& record, ChipRecord next, ChipState to, const RunEvidence& evidence,
              std::string reason) {
  Decision d;
  d.transition = Transition{record.state, to, "policy", std::move(reason), evidence.run_id, evidence.plan_hash};
  next.state = to;
  d.next = next;
  return d;
}

}  // namespace

std::string retest_tally(const ChipRecord& record) {
  return fmt::format("failed {} of {} retest{}", record.retests_failed, record.retests_run,
                     record.retests_run == 1 ? "" : "s");
}

Decision apply_evidence(const ChipRecord& record, const RunEvidence& evidence, const LifecyclePolicy& policy) {
  ChipRecord next = record;
  Decision stay;
  const bool bad =
      evidence.outcome == Outcome::failed || (evidence.outcome == Outcome::marginal && policy.suspect_on_marginal);
  const bool in_episode = record.state == ChipState::suspect || record.state == ChipState::quarantined;

  if (evidence.outcome == Outcome::not_judged) {
    stay.next = record;
    stay.note = fmt::format("run {} could not judge the chip: not charged to it", evidence.run_id);
    return stay;
  }
  // Tally a retest of the current episode whatever happens next.
  if (evidence.retest && in_episode) {
    ++next.retests_run;
    if (bad) ++next.retests_failed;
  }
  next.clean_streak = bad ? 0 : record.clean_streak + 1;

  if (record.set_by_person) {
    stay.next = next;
    stay.note = fmt::format("{} was set by a person: the policy does not change it", to_string(record.state));
    return stay;
  }
  switch (record.state) {
    case ChipState::rma:
    case ChipState::retired:
    case ChipState::maintenance:
      stay.next = next;
      stay.note = fmt::format("{}: the policy does not change it", to_string(record.state));
      return stay;
    case ChipState::unknown:
    case ChipState::healthy:
    case ChipState::suspect:
      if (bad && evidence.outcome == Outcome::failed && hard(evidence, policy)) {
        open_episode(next, evidence);
        Decision d =
            move(record, next, ChipState::quarantined, evidence,
                 fmt::format("{} in run {}: a hard failure quarantines", classes_text(evidence), evidence.run_id));
        d.retests = plan_retests(evidence, policy);
        return d;
      }
      if (bad && record.state != ChipState::suspect) {
        open_episode(next, evidence);
        const std::string what =
            evidence.outcome == Outcome::marginal ? std::string("a marginal result") : classes_text(evidence);
        Decision d = move(record, next, ChipState::suspect, evidence,
                          fmt::format("{} in run {}: suspect until {} clean passes", what, evidence.run_id,
                                      policy.healthy_after_clean_passes));
        d.retests = plan_retests(evidence, policy);
        return d;
      }
      if (!bad && record.state == ChipState::unknown) {
        return move(record, next, ChipState::healthy, evidence, fmt::format("passed run {}", evidence.run_id));
      }
      if (!bad && record.state == ChipState::suspect && next.clean_streak >= policy.healthy_after_clean_passes) {
        return move(record, next, ChipState::healthy, evidence,
                    fmt::format("{} clean passes in a row ({}, episode from run {})", next.clean_streak,
                                retest_tally(next), next.episode_run));
      }
      stay.next = next;
      return stay;
    case ChipState::quarantined:
      if (next.retests_failed >= policy.rma_after_failed_retests) {
        return move(record, next, ChipState::rma, evidence,
                    fmt::format("{} (episode from run {}): rma", retest_tally(next), next.episode_run));
      }
      if (next.retests_run >= policy.retests()) {
        // Retests done and below the rma threshold: not proven bad, not yet
        // trusted; clean passes from here on bring it back.
        next.clean_streak = bad ? 0 : next.clean_streak;
        return move(record, next, ChipState::suspect, evidence,
                    fmt::format("{} (episode from run {}): below the rma threshold of {}; suspect until {} clean "
                                "passes",
                                retest_tally(next), next.episode_run, policy.rma_after_failed_retests,
                                policy.healthy_after_clean_passes));
      }
      stay.next = next;
      return stay;
  }
  stay.next = next;
  return stay;
}

Decision apply_person(const ChipRecord& record, ChipState state, const std::string& actor, const std::string& reason,
                      bool sticky) {
  Decision d;
  d.next = record;
  d.next.state = state;
  d.next.set_by_person = sticky;
  if (state == ChipState::healthy || state == ChipState::unknown) {
    d.next.retests_run = 0;
    d.next.retests_failed = 0;
    d.next.episode_run = 0;
  }
  d.transition = Transition{record.state,
                            state,
                            actor,
                            reason.empty() ? std::string(sticky ? "set by hand" : "handed back to the policy") : reason,
                            0,
                            ""};
  return d;
}

}  // namespace kiln::lifecycle
