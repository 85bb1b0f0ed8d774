#pragma once
// Runs the phases the daemon dispatches: one task per chip taking part, each
// running chip_phase's loop, so every chip of the rack advances
// concurrently: a thread per chip, or for simulated chips a fiber per chip
// on the rack's one thread (ChipPhaseOptions::loops, agents/chip_tasks.hpp).
// Owns the rack's chips and their per-run state.
//
// start() and abort() return at once (they are called on the network
// thread, which must keep answering heartbeats); results travel through the
// Outbox. A dispatch for a chip that is still running another phase stops
// that phase first (its unfinished steps report "aborted"): the new phase's
// task waits for the old one to end before it touches the chip, so start() never
// waits for a tick to end. The same phase dispatched twice (after a
// reconnect) is ignored while it runs.
//
// Fencing (docs/scheduling.md): a dispatch carries its run's lease on the
// rack as a fencing token. One whose token is lower than the highest this
// agent has seen is refused (its chips answer not completed, with the
// reason): a newer lease holds the rack, so the run that sent it lost it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agents/chip_phase.hpp"
#include "agents/chip_tasks.hpp"
#include "agents/collective_rendezvous.hpp"
#include "agents/outbox.hpp"
#include "agents/patterns/pattern_factory.hpp"
#include "agents/step_runner.hpp"
#include "agents/tile_checks.hpp"
#include "agents/vote_board.hpp"
#include "device/chip.hpp"
#include "device/collective.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

class PhaseExecutor {
 public:
  // `fabric` (may be null: no collectives) links `chips`, in this order.
  PhaseExecutor(std::vector<std::unique_ptr<device::Chip>> chips, Outbox& outbox, ChipPhaseOptions options,
                std::unique_ptr<device::Fabric> fabric = nullptr);
  ~PhaseExecutor();  // stop_all()
  PhaseExecutor(const PhaseExecutor&) = delete;
  PhaseExecutor& operator=(const PhaseExecutor&) = delete;

  // After stop_all() a dispatch is answered with completed=false results.
  // A dispatch of the phase a chip is running goes on as it is; of the phase
  // it last finished, its results are sent again instead of running it twice
  // (a restarted daemon dispatches the phase it was in again, docs/design.md).
  void start(const kiln::v1::PhaseDispatch& dispatch);
  // The highest fencing token seen (0: none yet).
  std::uint64_t fencing_token() const;
  // Stops run `run_id` on every chip running it; they report their
  // unfinished steps with completed=false. Does not wait.
  void abort(std::uint64_t run_id);
  // Stops everything and waits for the chips' tasks (agent shutdown).
  void stop_all();

  // Called on a chip's thread whenever the rack's last running chip has
  // finished its phase, its results in the outbox (the agent sends them at
  // once: the daemon waits for them to go on); not once stop_all() began.
  // Set before the first start().
  void set_idle_listener(std::function<void()> listener) { idle_listener_ = std::move(listener); }

  bool busy() const;
  // For tests and shutdown: true when every chip finished within `timeout`.
  bool wait_idle(std::chrono::milliseconds timeout) const;
  std::vector<const device::Chip*> chips() const;

 private:
  struct Slot {
    std::unique_ptr<device::Chip> chip;
    ChipRunState state;              // touched only by the slot's task
    std::shared_ptr<ChipTask> task;  // the latest phase's (null: none yet)
    std::uint64_t run_id = 0;
    std::uint32_t phase_index = 0;
    std::uint32_t repeat_index = 0;
    bool running = false;  // guarded by idle_mutex_
    // The results of the phase (run_id, phase_index, repeat_index) once it
    // finished; guarded by idle_mutex_.
    std::vector<kiln::v1::ChipStepResult> finished;
    std::uint64_t generation = 0;  // guarded by idle_mutex_: which start() owns `running`
  };

  // One dispatch as its chip threads share it.
  struct SharedPhase {
    kiln::v1::PhaseDispatch dispatch;
    std::unique_ptr<CollectiveRendezvous> rendezvous;
    std::unique_ptr<VoteBoard> vote;
    PhaseCollectives collectives;
  };

  Slot* find(const std::string& serial);
  PhaseNeeds needs(const kiln::v1::PhaseDispatch& dispatch) const;
  void prepare_collectives(SharedPhase& phase);
  void prepare_vote(SharedPhase& phase);
  bool running(const Slot& slot) const;
  // True when `slot` already finished this dispatch's phase: its results are
  // pushed again and the phase is not run a second time.
  bool resend_finished(const Slot& slot, const kiln::v1::PhaseDispatch& dispatch);
  void reject(const kiln::v1::PhaseDispatch& dispatch, const std::string& serial, const std::string& note);

  Outbox& outbox_;
  const ChipPhaseOptions options_;
  TileChecks tile_checks_;  // every phase's chips share it
  std::vector<std::unique_ptr<Slot>> slots_;
  std::unique_ptr<device::Fabric> fabric_;  // after slots_: destroyed first, it points at their chips
  ChipTasks tasks_;                         // last: its tasks use all of the above

  mutable std::mutex mutex_;  // serializes start/abort/stop_all
  bool stopped_ = false;
  std::uint64_t highest_token_ = 0;  // guarded by mutex_
  mutable std::mutex idle_mutex_;
  mutable std::condition_variable idle_cv_;
  std::function<void()> idle_listener_;  // set before the first start(), then only read
  std::atomic<bool> stopping_{false};    // stop_all() began: the idle listener is not called
};

}  // namespace kiln::agent
