#pragma once
// Turns what an agent measured for one chip and one step into a verdict and
// failures, by the step's limits (DESIGN §4–5). Pure: no I/O, no clock.
//
// Which aggregate a bound is judged on:
//   min / marginal_min  → the step's average (sustained performance),
//   max / marginal_max  → the step's maximum (the worst moment).
// Counters (sdc_errors, hbm_ce, …) are cumulative, so their maximum is the total.

#include <map>
#include <string>
#include <vector>

#include "daemon/verdict.hpp"
#include "metrics/catalog.hpp"
#include "metrics/failure_class.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"
#include "testplans/plan.hpp"

namespace kiln::daemon {

struct Judgement {
  Verdict verdict = Verdict::pass;
  std::string reason;  // for everything but pass: why, in one line
  std::vector<store::FailureRow> failures;
  bool health_watch_failed = false;  // a health watch, not only a limit, failed it
};

// Median of each metric's step average and step maximum over the chips of
// one SKU in the step: the reference for `of: peers`.
struct PeerReference {
  std::map<std::string, double> median_avg;
  std::map<std::string, double> median_max;
  std::size_t chips = 0;
};

// One chip's figures for one step in its baseline run (its last completed
// run of the same plan that it passed).
struct BaselineReference {
  std::uint64_t run_id = 0;
  std::map<std::string, double> avg;  // by metric
  std::map<std::string, double> max;
};

// results: every chip of one SKU that reported the step.
PeerReference peer_reference(const std::vector<const kiln::v1::ChipStepResult*>& results);

struct JudgeInput {
  const plan::Step* step = nullptr;
  std::uint32_t step_index = 0;
  const kiln::v1::ChipStepResult* result = nullptr;      // nullptr: never reported
  const std::map<std::string, double>* peaks = nullptr;  // the chip's SKU figures
  const PeerReference* peers = nullptr;
  const BaselineReference* baseline = nullptr;  // null: this chip has none for this step
  std::string missing_reason;                   // why there is no result (agent lost, run aborted)
  Verdict missing_verdict = Verdict::error;
  // While the step still runs (the live view): judge only what more data
  // cannot undo — health watches, and `max` bounds whose reference is known
  // (a maximum only grows). `min` bounds (on an average), `of: peers` (the
  // other chips are not done), missing metrics and an unfinished step are
  // not judged, so the verdict is pass ("nothing decided yet"), marginal or fail.
  bool so_far = false;
  const metrics::MetricCatalog* catalog = nullptr;  // null: the built-in one
};

Judgement judge(const JudgeInput& input);

// What the live view shows of a chip in a running step: a health watch
// failed it (failed), a limit is already exceeded (over_limit), or nothing
// is decided yet (running). The judge's own predicate: judge(so_far).
struct SoFar {
  enum class State { running, over_limit, failed };
  State state = State::running;
  std::string reason;
};
SoFar judge_so_far(JudgeInput input);

// The failure class a violated limit on `metric` stands for (the catalog's).
metrics::FailureClass failure_class_for(const std::string& metric,
                                        const metrics::MetricCatalog& catalog = metrics::MetricCatalog::builtin());
// A detection that fails its chip whatever the step's limits say (DESIGN §5:
// health watches, and corruption the chip's own data shows).
bool is_health_watch(const kiln::v1::Detection& detection);

}  // namespace kiln::daemon
