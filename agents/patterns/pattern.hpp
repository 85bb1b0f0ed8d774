#pragma once
// One test pattern on one chip for one step, with the lifecycle every
// pattern shares (OpenDCDiag's init / run / cleanup):
//   init     allocate, compute what stays fixed, check that this chip and
//            phase can run it; or skip with a reason, saying whether the
//            step is unsupported here (not the chip's failure) or invalid.
//   run      its share of one tick of chip time (parallel steps time-slice
//            the chip); an error ends the step at the next observe.
//   observe  after the tick: this tick's metric values and findings.
//   finish   whether the step completed and its note, and the pattern's own
//            parts of the result (a shmoo's map).
// What every step does around it (duration, telemetry samples, summaries,
// health watches, the ChipStepResult) is StepRunner's. A pattern is built
// by the PatternFactory from params already checked against the registry,
// and lives on its chip's thread.

#include <optional>
#include <string>

#include "agents/detection_log.hpp"
#include "agents/metric_summary.hpp"
#include "agents/step_context.hpp"
#include "agents/telemetry_values.hpp"
#include "core/units.hpp"
#include "device/chip.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

// What a pattern works with, owned by its StepRunner for the whole step.
struct PatternEnv {
  device::Chip& chip;
  const kiln::v1::StepSpec& spec;  // step_index, name; params are the pattern's, typed
  const StepContext& context;
  ChipRunState& state;
  DetectionLog& detections;
  MetricSummaries& summaries;  // for figures a pattern adds outside a sample
  double duration_s = 0;
  double elapsed_s = 0;  // step chip time so far, kept by the runner

  double remaining_s() const { return duration_s - elapsed_s; }
  bool at_end() const;  // the duration is reached, up to rounding
};

// A step that cannot go on. `unsupported`: this chip, backend or phase
// cannot run it, which is not the chip's failure; otherwise it is invalid.
struct Skip {
  std::string note;
  bool unsupported = false;
};

// How a step ends: completed or not, and why.
struct StepEnd {
  bool completed = true;
  std::string note;
};

class Pattern {
 public:
  virtual ~Pattern() = default;

  // `start`: the chip's reading as the step begins.
  virtual std::optional<Skip> init(const device::Telemetry& start) = 0;
  // Whether it wants a share of the chip's compute each tick (an idle step
  // only observes).
  virtual bool uses_chip() const { return true; }
  // The longest next tick it allows, at most `remaining_s` (a shmoo stops
  // at its next point).
  virtual double tick_limit_s(double remaining_s) const { return remaining_s; }
  virtual std::optional<Skip> run(Seconds share, Seconds tick) = 0;
  // Adds this tick's values to `values` (the telemetry's, already there).
  virtual void observe(const Moment& at, Seconds tick, const device::Telemetry& telemetry, MetricValues& values) = 0;
  // After observe: the pattern ends the step before its duration.
  virtual std::optional<StepEnd> ended() const { return std::nullopt; }
  // Called once, for a pattern whose init() did not skip.
  virtual void finish(StepEnd& end, kiln::v1::ChipStepResult& result) = 0;
};

}  // namespace kiln::agent
