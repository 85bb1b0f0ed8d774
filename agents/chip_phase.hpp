#pragma once
// The loop that runs one phase on one chip, on that chip's thread or fiber
// (agents/chip_tasks.hpp).
//
// Time advances in ticks of 1/sample_hz chip seconds (cut short when a step
// would overrun its duration, or where a step changes what it does, as at a
// shmoo's next voltage × clock point: StepRunner::tick_limit_s), or longer
// where a real chip's work ran over the tick (a GEMM cannot stop half way).
// In each tick every active step that computes
// gets an equal share, tick / n (a parallel group time-slices the chip; an
// idle step takes no share, and a chip with only idle steps idles). After
// the tick each active step samples the chip's telemetry. A ScaledClock
// paces the loop so that chip time runs at time_scale × wall time (a chip
// runs up to 20 ms of wall time ahead before it sleeps, so a fast time
// scale does not cost a sleep a tick); a chip slower than that simply runs
// behind. A stop request ends every unfinished
// step with completed=false, note "aborted", within one tick.

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "agents/chip_tasks.hpp"
#include "agents/outbox.hpp"
#include "agents/step_runner.hpp"
#include "core/clock.hpp"
#include "device/chip.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

struct ChipPhaseOptions {
  double time_scale = 1.0;  // chip seconds per wall second; <= 0 or not finite: no pacing
  std::string backend = "sim";
  std::string abort_note = "aborted";
  // What steps' patterns are checked against and built by; null: the
  // built-in ones (tests add toy patterns). Must outlive the phases.
  const plan::PatternRegistry* registry = nullptr;
  const PatternFactory* factory = nullptr;
  // Where PhaseExecutor runs the rack's loops (agents/chip_tasks.hpp): fibers
  // only for chips whose work never blocks a thread (simulated ones).
  ChipLoops loops = ChipLoops::thread_per_chip;
};

// What the phase's chips share for collectives (StepContext).
struct PhaseCollectives {
  CollectiveRendezvous* rendezvous = nullptr;
  std::string unavailable_reason;     // why rendezvous is null
  VoteBoard* vote = nullptr;          // verify: vote
  TileChecks* tile_checks = nullptr;  // the executor's, shared by its chips
  // When the dispatch arrived: the phase's paced time starts then for all
  // its chips (default: when each chip's loop starts).
  SteadyClock::time_point dispatched{};
};

// Runs every step of `dispatch` on `chip`, pushing samples and one
// ChipStepResult per step into `outbox`. Starts a new run on the chip
// (Chip::start_run) when `state` belongs to another run. Never throws: an
// exception ends the unfinished steps with completed=false and its message.
// A copy of every result pushed goes to `reported` when given (the executor
// keeps them to answer a dispatch of the same phase again, see PhaseExecutor).
void run_chip_phase(device::Chip& chip, const kiln::v1::PhaseDispatch& dispatch, ChipRunState& state,
                    const ChipPhaseOptions& options, Outbox& outbox, std::stop_token stop,
                    const PhaseCollectives& collectives = {},
                    std::vector<kiln::v1::ChipStepResult>* reported = nullptr);

// Ticks are 1/sample_hz; a sample rate outside (0, 1000] falls back to 10 Hz.
double tick_seconds(double sample_hz);

}  // namespace kiln::agent
