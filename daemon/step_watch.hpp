#pragma once
// The figures of one chip's running step, summarised from its samples as
// they commit, the way the agent will summarise them when the step ends
// (agents/metric_summary.hpp): min, avg, max and count per metric, and a
// counter's minimum is its value when the step began (counters are
// cumulative within a run, DESIGN §7). The live view judges this partial
// result with the judge's own rules (judge_so_far).

#include <map>
#include <string>

#include "metrics/catalog.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"

namespace kiln::daemon {

// A chip's counters as last seen in this run: where its next step starts.
using CounterValues = std::map<std::string, double>;

class StepWatch {
 public:
  // `starts`: the chip's counters when the step began (empty at a run's start: 0).
  StepWatch(const kiln::v1::ChipStepResult& identity, CounterValues starts,
            const metrics::MetricCatalog& catalog = metrics::MetricCatalog::builtin());

  // Adds a sample's values; updates `last` with the counters it carries.
  void add(const kiln::v1::Sample& sample, CounterValues& last);
  // The same from a telemetry chunk's figures (ingest decoded it once).
  void add(const store::ChunkDigest& chunk, CounterValues& last);
  // A result as if the step ended now, without detections (they come with
  // the agent's own result).
  const kiln::v1::ChipStepResult& partial() const { return partial_; }

 private:
  const metrics::MetricCatalog& catalog_;
  CounterValues starts_;
  kiln::v1::ChipStepResult partial_;
  // Folds count values of `name` with these figures into its summary.
  void fold(const std::string& name, std::uint64_t count, double min, double max, double sum, double last,
            CounterValues& counters);
  std::map<std::string, double> sums_;
};

}  // namespace kiln::daemon
