#pragma once
// Runs, from submission to the last verdict: validates and persists a
// submitted plan, queues runs (one active at a time), dispatches each phase
// to the agents of the run's racks, collects the chips' step results as
// their batches commit, judges them against the plan's limits and records
// verdicts, handles lost agents and aborts. Lives on the io thread.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <chrono>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "daemon/agent_directory.hpp"
#include "daemon/ingest_writer.hpp"
#include "daemon/judge.hpp"
#include "daemon/run_progress.hpp"
#include "daemon/step_watch.hpp"
#include "daemon/verdict.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"
#include "testplans/pattern_registry.hpp"
#include "testplans/plan.hpp"

namespace kiln::daemon {

struct RunChip {
  std::string serial;
  std::string rack;
  std::uint32_t slot = 0;
  std::string sku;
  std::map<std::string, double> peaks;
};

// Shared between a run's writer jobs (writer thread) and the run manager.
class WriteFailure {
 public:
  void record(std::string what);
  std::optional<std::string> first() const;

 private:
  mutable std::mutex mutex_;
  std::optional<std::string> first_;
};

class RunManager {
 public:
  using SubmitReply = std::function<void(kiln::v1::SubmitRunReply)>;

  RunManager(boost::asio::any_io_executor executor, IngestWriter& writer, AgentDirectory& agents,
             const plan::PatternRegistry& registry,
             const metrics::MetricCatalog& catalog = metrics::MetricCatalog::builtin());

  void submit(const kiln::v1::SubmitRun& request, SubmitReply reply);
  Status abort(std::uint64_t run_id, const std::string& reason);
  // Live state of a queued or running run, merged into `kiln run show`.
  std::optional<RunProgress> progress(std::uint64_t run_id) const;

  void on_batch_committed(const std::string& rack, const kiln::v1::AgentBatch& batch);
  // A rack's agent went away: its part of the run waits for it to register
  // again (on_rack_registered) for rack_return_timeout, then it is lost.
  void on_rack_lost(const std::string& rack);
  // A rack's agent registered (a new process, or the same one reconnected):
  // what its chips still owe of the current phase is dispatched to it again.
  void on_rack_registered(const kiln::v1::RegisterRack& registration);

  // Start-up, before the io thread runs: queues every run an earlier daemon
  // left queued or running, the running one to resume at its first phase
  // without verdicts (docs/design.md, "Restarts").
  void resume(store::Reader& reader);
  // The daemon is stopping: the active run stays `running` in the database,
  // to be resumed by the next start, instead of losing its racks.
  void on_stopping();
  void set_rack_return_timeout(std::chrono::milliseconds timeout) { rack_return_timeout_ = timeout; }
  // Called on the io thread once a run's end is recorded (the chip
  // lifecycle reads its verdicts from the store then).
  std::function<void(std::uint64_t run_id)> on_run_recorded;

 private:
  struct Run {
    std::uint64_t id = 0;
    std::unique_ptr<plan::Plan> plan;  // FlatStep points into it
    std::vector<plan::FlatStep> steps;
    std::vector<std::uint32_t> phases;  // phase indices in order
    std::uint64_t seed = 0;
    std::vector<std::string> racks;
    std::vector<RunChip> chips;
    double total_s = 0;
    // While running:
    std::size_t phase_pos = 0;
    double elapsed_before_phase_s = 0;
    double phase_progress_s = 0;
    std::set<std::pair<std::string, std::uint32_t>> expected;  // (serial, step_index) of the current phase
    std::map<std::pair<std::string, std::uint32_t>, kiln::v1::ChipStepResult> results;
    std::set<std::string> lost_racks;
    std::map<std::string, std::string> lost_reasons;  // rack → why its chips have no results
    // Racks whose agent is gone, waiting for it to register again; the epoch
    // each rack's agent registered last (0: not seen by this daemon yet).
    std::set<std::string> away_racks;
    std::map<std::string, std::uint64_t> rack_epochs;
    // What interrupted this run and how it went on: the end's reason.
    std::vector<std::string> interruptions;
    // A chip-step rerun on a restarted agent: its first attempt's samples
    // (what they showed still fails the chip) and the note for its verdict.
    std::map<std::pair<std::string, std::uint32_t>, StepWatch> earlier_attempts;
    std::map<std::pair<std::string, std::uint32_t>, std::string> rerun_notes;
    bool resumed = false;                       // left running by an earlier daemon
    std::optional<std::string> give_up_reason;  // every rack is lost: the run ends `error`
    std::map<std::string, Verdict> chip_verdicts;
    // The live view (judge_so_far): each chip's counters as last seen, where
    // this phase's steps started them, a watch over each chip-step's samples,
    // and what is decided so far (kept for the rest of the run once judged).
    std::map<std::string, CounterValues> counters;
    std::map<std::string, CounterValues> phase_starts;
    std::map<std::pair<std::string, std::uint32_t>, StepWatch> watches;
    struct Concern {
      SoFar so_far;
      bool judged = false;  // from a phase's verdict: final for this run
    };
    std::map<std::string, Concern> concerns;
    std::optional<std::string> abort_reason;
    // The first write of this run that failed (set on the writer thread):
    // the run ends `error` with it instead of as if it had been recorded.
    std::shared_ptr<WriteFailure> write_failure = std::make_shared<WriteFailure>();
    std::uint64_t phase_samples = 0;        // samples received in this phase: the agents are working
    std::uint64_t samples_at_deadline = 0;  // phase_samples when the deadline last fired
    // of: baseline, loaded when the run starts: serial → step name → figures.
    std::map<std::string, std::map<std::string, BaselineReference>> baselines;
  };

  Result<std::unique_ptr<Run>> prepare(const kiln::v1::SubmitRun& request, kiln::v1::SubmitRunReply& reply);
  void start_next();
  void load_baselines(Run& run);
  void dispatch_phase();
  kiln::v1::Envelope make_dispatch(const Run& run, const std::vector<const plan::FlatStep*>& steps) const;
  // Sends the current phase to `rack` for its chips still owing results.
  void redispatch_rack(const std::string& rack, bool restarted);
  void mark_away(const std::string& rack);
  void rack_gone(const std::string& rack);
  Result<std::unique_ptr<Run>> load_unfinished(store::Reader& reader, const store::RunRow& row);
  void finish_phase(const std::string& missing_reason, Verdict missing_verdict);
  void finish_run(const std::string& status, const std::string& reason);
  // Queues a write of `run`; a failed one ends the run `error` with its reason.
  void record(const Run& run, std::string what, IngestWriter::Job job);
  void on_write_failed(std::uint64_t run_id, const std::string& reason);
  // Judges `result` (a chip's step so far, or as the agent reported it) by
  // the rules that more data cannot undo, and updates the chip's concern.
  void watch(Run& run, const kiln::v1::ChipStepResult& result);
  JudgeInput judge_input(const Run& run, const RunChip& chip, const plan::FlatStep& step) const;
  const plan::FlatStep* find_step(const Run& run, std::uint32_t step_index) const;
  // Records every step from the current phase on as not run.
  void mark_not_run(const std::string& reason, Verdict verdict);
  std::vector<const plan::FlatStep*> phase_steps(const Run& run, std::size_t phase_pos) const;
  double phase_length(const Run& run, std::size_t phase_pos) const;
  void arm_deadline();
  void wait_for_deadline(std::uint64_t id, std::size_t phase);
  const RunChip* find_chip(const Run& run, const std::string& serial) const;

  boost::asio::any_io_executor executor_;
  IngestWriter& writer_;
  AgentDirectory& agents_;
  const plan::PatternRegistry& registry_;
  const metrics::MetricCatalog& catalog_;
  std::deque<std::unique_ptr<Run>> queue_;
  std::unique_ptr<Run> active_;
  boost::asio::steady_timer deadline_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> return_deadlines_;  // per away rack
  std::chrono::milliseconds rack_return_timeout_{std::chrono::minutes(5)};
  bool stopping_ = false;
};

}  // namespace kiln::daemon
