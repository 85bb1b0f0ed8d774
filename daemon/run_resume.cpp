// RunManager: taking up the runs an earlier daemon left queued or running
// (docs/design.md, "Restarts"). The plan is loaded again from the text kept
// with the run; the phases whose every chip-step has a verdict stay judged,
// and the run goes on at the first phase without one. Its agents kept
// running that phase while no daemon was there: dispatched again, a chip
// still running it goes on, one that finished it sends its results again.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "daemon/run_manager.hpp"
#include "testplans/loader.hpp"

namespace kiln::daemon {

Result<std::unique_ptr<Run>> RunManager::load_unfinished(store::Reader& reader, const store::RunRow& row) {
  KILN_TRY_ASSIGN(const std::string text, reader.plan_text(row.id));
  plan::LoadResult loaded = plan::load_plan(text, row.plan_path.empty() ? "plan" : row.plan_path, registry_);
  if (!loaded.plan) {
    return make_error(ErrorCode::invalid_argument, "its plan no longer loads ({} error(s){})",
                      loaded.diagnostics.size(),
                      loaded.diagnostics.empty() ? "" : ": " + loaded.diagnostics.front().message);
  }
  auto run = std::make_unique<Run>();
  run->id = row.id;
  run->plan = std::make_unique<plan::Plan>(std::move(*loaded.plan));
  run->seed = row.seed;
  run->racks = row.racks;
  run->steps = plan::flatten(*run->plan);
  index_phases(*run);
  run->priority = row.priority;
  run->queue_timeout_s = row.queue_timeout_s;
  run->max_wall_s = row.max_wall_s;
  run->queued_unix_ms = row.submitted_unix_ms;
  run->started_unix_ms = row.started_unix_ms.value_or(0);
  KILN_TRY_ASSIGN(const auto stored_steps, reader.steps(row.id));
  if (stored_steps.size() != run->steps.size()) {
    return make_error(ErrorCode::conflict, "its plan now has {} steps where {} were recorded", run->steps.size(),
                      stored_steps.size());
  }
  KILN_TRY_ASSIGN(const auto chips, reader.run_chips(row.id));
  for (const auto& c : chips) run->chips.push_back(RunChip{c.serial, c.rack, c.slot, c.sku, {}});
  if (run->chips.empty()) return make_error(ErrorCode::conflict, "it has no chips");
  if (row.status == "queued") return run;

  // Verdicts recorded so far: (serial, step_index) → verdict and reason.
  KILN_TRY_ASSIGN(const auto chip_steps, reader.chip_steps(row.id));
  std::map<std::pair<std::string, std::uint32_t>, const store::ChipStepRow*> judged;
  for (const auto& cs : chip_steps) {
    if (!cs.verdict.empty()) judged[{cs.serial, cs.step_index}] = &cs;
  }
  run->resumed = true;
  for (; run->phase_pos < run->phases.size(); ++run->phase_pos) {
    const auto steps = phase_steps(*run, run->phase_pos);
    bool complete = true;
    for (const auto* s : steps) {
      for (const auto& chip : run->chips) complete = complete && judged.contains({chip.serial, s->step_index});
    }
    if (!complete) break;
    for (const auto* s : steps) {
      for (const auto& chip : run->chips) {
        const store::ChipStepRow& cs = *judged.at({chip.serial, s->step_index});
        const auto verdict = parse_verdict(cs.verdict);
        auto& v = run->chip_verdicts.try_emplace(chip.serial, Verdict::pass).first->second;
        v = worst(v, verdict.value_or(Verdict::error));
        if (verdict == Verdict::fail && !run->concerns[chip.serial].judged) {
          run->concerns[chip.serial] = Run::Concern{SoFar{SoFar::State::failed, cs.reason}, true};
        }
      }
    }
    run->elapsed_before_phase_s += phase_length(*run, run->phase_pos);
  }
  run->interruptions.push_back(run->phase_pos < run->phases.size()
                                   ? fmt::format("kilnd restarted during phase {}/{}, which was dispatched again",
                                                 run->phase_pos + 1, run->phases.size())
                                   : std::string("kilnd restarted after the last phase was judged"));
  return run;
}

void RunManager::resume(store::Reader& reader) {
  auto rows = reader.list_runs();
  if (!rows) {
    spdlog::error("cannot read the runs to resume: {}", rows.error().message);
    resume_leases({});
    return;
  }
  std::vector<std::unique_ptr<Run>> running;
  for (const auto& row : *rows) {
    if (row.status != "queued" && row.status != "running") continue;
    auto run = load_unfinished(reader, row);
    if (!run) {
      const std::string reason = fmt::format("could not be resumed after a daemon restart: {}", run.error().message);
      spdlog::error("run {} {}", row.id, reason);
      const std::uint64_t id = row.id;
      context_.writer.submit(
          [id, reason](store::Writer& w) -> Status {
            KILN_TRY(w.set_run_status(id, "error", reason, unix_ms_now()));
            return w.end_leases(id, 0, fmt::format("run {} could not be resumed", id), unix_ms_now())
                .transform([](int) {});
          },
          [id](const Status& s) {
            if (!s) spdlog::error("run {}: could not record its end: {}", id, s.error().message);
          });
      continue;
    }
    spdlog::info("run {} ({}) left {} by an earlier daemon: {}", row.id, row.plan_name, row.status,
                 (*run)->resumed ? "resumed on the leases it held" : "queued again");
    if ((*run)->resumed) {
      running.push_back(std::move(run).value());
    } else {
      waiting_.push_back(std::move(run).value());
    }
  }
  resume_leases(std::move(running));
}

}  // namespace kiln::daemon
