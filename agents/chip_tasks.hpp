#pragma once
// Where a rack's chip loops run (PhaseExecutor launches one per chip and
// phase).
//
// - thread_per_chip: each loop on a thread of its own. Real chips need it:
//   their work blocks the thread (a GEMM on the CPU, a kernel on a GPU).
// - fibers: every loop of the rack as a fiber on one thread. For simulated
//   chips: a collective tick parks and wakes every chip of the rack, which
//   on threads is 63 trips through the kernel's scheduler a tick, and took
//   more than half the host's time in a 1,024-chip lab; between fibers it
//   is a stack switch. The loops then share one core per rack, which is
//   what the simulated chips' work needs (a lab has many racks).
//
// Whatever a loop waits on must then suspend its fiber, not the thread:
// agents/fiber_sync.hpp. A loop that blocks its thread anyway (the outbox's
// backpressure) pauses the whole rack's simulated chips, which is what
// backpressure is meant to do.

#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include <boost/fiber/buffered_channel.hpp>

#include "agents/fiber_sync.hpp"

namespace kiln::agent {

enum class ChipLoops { thread_per_chip, fibers };

// One launched loop: stop it, or wait until it has ended.
class ChipTask {
 public:
  void request_stop() { stop_.request_stop(); }
  std::stop_token stop_token() const { return stop_.get_token(); }
  bool ended() const;
  // Suspends the calling fiber (or blocks the calling thread) until it ended.
  void wait_ended() const;

 private:
  friend class ChipTasks;
  void set_ended();

  std::stop_source stop_;
  mutable ChipMutex mutex_;
  mutable ChipCondition ended_cv_;
  bool ended_ = false;
};

class ChipTasks {
 public:
  // How many launches may wait for the rack's fiber thread to take them up
  // (a launch beyond that waits for room; a dispatch launches one per chip).
  static constexpr std::size_t kQueuedLaunches = 1024;
  // Each fiber's stack, with a guard page below it: an overflow faults
  // instead of writing over its neighbour. Reserved, not resident.
  static constexpr std::size_t kFiberStackBytes = 2 * 1024 * 1024;

  explicit ChipTasks(ChipLoops loops);
  ~ChipTasks();  // join_all()
  ChipTasks(const ChipTasks&) = delete;
  ChipTasks& operator=(const ChipTasks&) = delete;

  // Runs `body` with its task's stop token, once `after` (null: none) has
  // ended: a chip's next phase waits for its last one to let go of the
  // chip. Returns at once. `body` must not throw.
  std::shared_ptr<ChipTask> launch(std::function<void(std::stop_token)> body, std::shared_ptr<ChipTask> after);

  // Waits until every launched task has ended and returned; no launch may
  // come after it. Does not stop them: request that first.
  void join_all();

 private:
  using Launch = std::function<void()>;
  static void run(const std::function<void(std::stop_token)>& body, ChipTask& task,
                  const std::shared_ptr<ChipTask>& after);
  void run_fibers();

  const ChipLoops loops_;
  // thread_per_chip: the threads not yet joined (ended ones are joined at the next launch).
  std::vector<std::pair<std::shared_ptr<ChipTask>, std::thread>> threads_;
  // fibers: launches travel to the rack's fiber thread through the channel.
  boost::fibers::buffered_channel<Launch> launches_{kQueuedLaunches};
  std::thread fiber_thread_;
  bool joined_ = false;
};

}  // namespace kiln::agent
