// RunDriver: judging a phase's chip-steps, recording verdicts and the run's end.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "daemon/run_driver.hpp"

namespace kiln::daemon {

void RunDriver::record(std::string what, IngestWriter::Job job) {
  const Run& run = *run_;
  context_.writer.submit(
      [job = std::move(job), failure = run.write_failure, what](store::Writer& w) -> Status {
        Status s = job(w);
        if (!s) failure->record(fmt::format("could not record {}: {}", what, s.error().message));
        return s;
      },
      [weak = weak_from_this(), id = run.id, what](const Status& s) {
        if (s) return;
        const std::string reason = fmt::format("could not record {}: {}", what, s.error().message);
        spdlog::error("run {}: {}", id, reason);
        if (auto self = weak.lock()) self->on_write_failed(reason);
      });
}

void RunDriver::watch(const kiln::v1::ChipStepResult& result) {
  Run& run = *run_;
  const RunChip* chip = find_chip(run, result.serial());
  const plan::FlatStep* step = find_step(run, result.step_index());
  if (chip == nullptr || step == nullptr) return;
  JudgeInput in = judge_input(*chip, *step);
  in.result = &result;
  SoFar so_far = judge_so_far(in);
  if (so_far.state == SoFar::State::running) return;
  auto& concern = run.concerns[chip->serial];
  // A chip's concern only grows within a run: failed outranks over a limit.
  if (concern.judged || static_cast<int>(so_far.state) <= static_cast<int>(concern.so_far.state)) return;
  concern.so_far = std::move(so_far);
}

JudgeInput RunDriver::judge_input(const RunChip& chip, const plan::FlatStep& step) const {
  const Run& run = *run_;
  JudgeInput in;
  in.step = step.step;
  in.step_index = step.step_index;
  in.peaks = &chip.peaks;
  in.catalog = &context_.catalog;
  if (auto b = run.baselines.find(chip.serial); b != run.baselines.end()) {
    if (auto found = b->second.find(step.step->name); found != b->second.end()) in.baseline = &found->second;
  }
  return in;
}

void RunDriver::finish_phase(const std::string& missing_reason, Verdict missing_verdict) {
  deadline_.cancel();
  Run& run = *run_;
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
      JudgeInput in = judge_input(chip, *s);
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
  record(fmt::format("the verdicts of phase {}", run.phase_pos + 1), [id, decisions](store::Writer& w) -> Status {
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

void RunDriver::mark_not_run(const std::string& reason, Verdict verdict) {
  Run& run = *run_;
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
  record("the steps not run", [id, rows, reason, verdict](store::Writer& w) -> Status {
    for (const auto& [serial, step] : *rows) {
      if (auto s = w.set_chip_step_verdict(id, step, serial, to_string(verdict), reason, {}); !s) return s;
    }
    return {};
  });
}

void RunDriver::finish_run(const std::string& status, const std::string& given_reason) {
  deadline_.cancel();
  for (auto& [rack, timer] : return_deadlines_) timer->cancel();
  Run& run = *run_;
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
  context_.writer.submit(
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
      [id, status, reason, counts, recorded = context_.on_run_recorded](const Status& s) {
        // Said once it is recorded, so that whoever reads the log and then the
        // database finds the same end.
        if (s) {
          spdlog::info("run {} {}{}: {}", id, status, reason.empty() ? "" : " (" + reason + ")",
                       fmt::join(counts, ", "));
        } else {
          // Nothing is left to fall back on: the database refuses the run's end.
          spdlog::critical("run {}: could not record its end: {}", id, s.error().message);
        }
        if (recorded) recorded(id);
      });
  ended_ = true;
  // Last: the manager may drop this driver from here on.
  if (ended_callback_) ended_callback_(id);
}

}  // namespace kiln::daemon
