#pragma once
// One step of a phase on one chip: checks the step's typed params against
// the pattern registry, builds its Pattern (agents/patterns/) and drives it
// through the ticks the chip loop (chip_phase.hpp) gives it; around it,
// what every step does: samples telemetry after every tick, keeps metric
// summaries and detections, watches the chip's health, and finally
// produces the ChipStepResult. Single-threaded: it lives on its chip's thread.
//
// Samples go to the outbox as TelemetryChunks of this chip-step
// (docs/telemetry-storage.md, "Agent-side encoding"): a chunk is pushed when
// it holds TelemetryChunker::kChunkValues values, when it has been open for
// kChunkWallMs of wall time (so the daemon's live view is at most that
// late), and when the step ends, before its result.
//
// Time is the step's own chip time: the sum of the ticks it was active in,
// whatever share of each tick its pattern got (steps of a parallel group run
// concurrently, so a 2-minute step lasts 2 minutes of chip time).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/detection_log.hpp"
#include "agents/metric_summary.hpp"
#include "agents/outbox.hpp"
#include "agents/patterns/pattern.hpp"
#include "agents/step_context.hpp"
#include "agents/telemetry_chunker.hpp"
#include "core/units.hpp"
#include "device/chip.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

class StepRunner {
 public:
  // A chunk open this long (wall time) is pushed even when not full.
  static constexpr std::int64_t kChunkWallMs = 1000;

  // Telemetry and, once done, nothing else go to `outbox` (the result is
  // the caller's to report, after the step's last chunk).
  StepRunner(device::Chip& chip, const kiln::v1::StepSpec& spec, const StepContext& context, ChipRunState& state,
             Outbox& outbox);
  ~StepRunner();
  StepRunner(const StepRunner&) = delete;  // its pattern refers to its members
  StepRunner& operator=(const StepRunner&) = delete;

  bool done() const { return done_; }
  // Whether the step wants a share of the chip's compute each tick (gemm);
  // an idle step only observes.
  bool uses_chip() const { return !done_ && pattern_ && pattern_->uses_chip(); }
  // Chip seconds left before the step's duration is reached.
  double remaining_s() const { return env_.remaining_s(); }
  // The longest next tick this step allows: its remaining time, or less
  // where the pattern changes what it does (a shmoo's next point).
  double tick_limit_s() const;
  double elapsed_s() const { return env_.elapsed_s; }

  // Runs the step's pattern for `share` of chip time, its part of a tick of
  // `tick` chip time (parallel steps share the tick).
  void work(Seconds share, Seconds tick);
  // After every tick of `tick` chip time: one telemetry sample (into the
  // step's chunk), summaries, health watches; ends the step when its
  // duration is reached, its pattern ends it, or the chip hung.
  void observe(Seconds tick, const device::Telemetry& telemetry, std::int64_t wall_unix_ms);
  // Ends the step early, not completed (abort, agent stopping, error).
  void abort(const std::string& note);

  // The result, once done().
  const kiln::v1::ChipStepResult& result() const { return result_; }

 private:
  std::optional<Skip> build_pattern();
  void reject(const Skip& skip);
  void finish(StepEnd end);
  void release_boards(const std::string& note);
  void watch_health(const device::Telemetry& telemetry, const Moment& at);
  void record(const MetricValues& values, std::int64_t wall_unix_ms);
  void push_chunk();

  device::Chip& chip_;
  kiln::v1::StepSpec spec_;
  StepContext context_;
  ChipRunState& state_;
  Outbox& outbox_;
  MetricSummaries summaries_;
  DetectionLog detections_;
  PatternEnv env_;  // after what it refers to

  std::unique_ptr<Pattern> pattern_;   // null when the step could not build it
  bool ready_ = false;                 // its init() passed: finish() is its to call
  std::optional<Skip> pending_error_;  // a pattern error that ends the step at the next observe()
  bool done_ = false;

  std::uint64_t throttle_known_ = 0;
  std::uint64_t throttled_ticks_ = 0;
  std::optional<double> last_hbm_ue_;
  // Per (stack, channel): ECC counts at the previous sample (located errors).
  std::map<std::pair<int, int>, std::pair<double, double>> last_sites_;  // → (ce, ue)
  std::vector<std::optional<bool>> last_link_up_;
  std::vector<bool> link_seen_down_;
  bool link_state_known_ = false;

  // The sample's values come in the same order tick after tick: by their
  // position, the name they had, its chunk slot and its summary (found by
  // name only when the name at that position changes).
  struct ValueSlot {
    std::string_view name;  // MetricValue's: storage that outlives the step
    std::uint32_t chunk_slot = 0;
    MetricSummary* summary = nullptr;
  };
  std::vector<ValueSlot> value_slots_;
  TelemetryChunker chunker_;
  std::int64_t chunk_opened_wall_ms_ = 0;
  MetricValues values_;  // the tick's, its storage reused

  kiln::v1::ChipStepResult result_;
};

}  // namespace kiln::agent
