#pragma once
// One run as the daemon holds it in memory: its plan flattened into phases,
// its chips, and while it runs, where it is (docs/design.md §5a). The queue
// (RunManager) and the run's driver (RunDriver) share this shape; the
// helpers at the end read the plan's phases.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "daemon/judge.hpp"
#include "daemon/step_watch.hpp"
#include "daemon/verdict.hpp"
#include "schema/kiln.pb.h"
#include "testplans/plan.hpp"

namespace kiln::daemon {

struct RunChip {
  std::string serial;
  std::string rack;
  std::uint32_t slot = 0;
  std::string sku;
  std::map<std::string, double> peaks;
};

// Shared between a run's writer jobs (writer thread) and its driver.
class WriteFailure {
 public:
  void record(std::string what);
  std::optional<std::string> first() const;

 private:
  mutable std::mutex mutex_;
  std::optional<std::string> first_;
};

struct Run {
  std::uint64_t id = 0;
  std::unique_ptr<plan::Plan> plan;  // FlatStep points into it
  std::vector<plan::FlatStep> steps;
  std::vector<std::uint32_t> phases;  // phase indices in order
  std::uint64_t seed = 0;
  std::vector<std::string> racks;
  std::vector<RunChip> chips;
  double total_s = 0;
  // What it asked of the fair queue (docs/scheduling.md), and who submitted it.
  std::int32_t priority = 0;
  std::optional<std::uint32_t> queue_timeout_s;
  std::optional<std::uint32_t> max_wall_s;
  std::int64_t queued_unix_ms = 0;
  std::string submitted_by;
  // Its lease on each rack (rack → lease id, the fencing token its
  // dispatches carry) and when it first started (for max_wall_s).
  std::map<std::string, std::uint64_t> leases;
  std::int64_t started_unix_ms = 0;
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
  std::optional<std::string> give_up_reason;  // every rack is lost, or a lease: the run ends `error`
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

// The steps of the run's phase at `phase_pos`, and its length (its longest step).
std::vector<const plan::FlatStep*> phase_steps(const Run& run, std::size_t phase_pos);
double phase_length(const Run& run, std::size_t phase_pos);
// Fills phases and total_s from steps.
void index_phases(Run& run);
const plan::FlatStep* find_step(const Run& run, std::uint32_t step_index);
const RunChip* find_chip(const Run& run, const std::string& serial);
bool has_rack(const Run& run, const std::string& rack);

}  // namespace kiln::daemon
