#include "agents/phase_executor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <tuple>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "agent_test_util.hpp"
#include "device/lab.hpp"
#include "device/sim/sim_chip.hpp"
#include "device/sim/sim_fabric.hpp"
#include "device/sku.hpp"
#include "fake_chip.hpp"

namespace kiln::agent {
namespace {

using namespace std::chrono_literals;
using testing::FakeChip;
using testing::gemm_params;
using testing::phase;
using testing::step;

// Holds a chip inside its tick until the test lets it go: a tick that runs
// whole GEMMs, without timing assumptions.
class Gate {
 public:
  void pass() {
    std::unique_lock lock(mutex_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  bool wait_entered(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return entered_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

// Every behaviour here holds wherever the chip loops run: a thread per chip
// (real chips) or fibers of one thread (simulated ones).
class PhaseExecutorTest : public ::testing::TestWithParam<ChipLoops> {
 protected:
  ChipPhaseOptions unpaced() const {
    ChipPhaseOptions options;
    options.time_scale = 0;  // no pacing: the test's own gates are the only waits
    options.loops = GetParam();
    return options;
  }
};

const kiln::v1::ChipStepResult* result_of(const testing::Drained& d, std::uint64_t run_id) {
  for (const auto& r : d.results) {
    if (r.run_id() == run_id) return &r;
  }
  return nullptr;
}

// Regression: start() joined the previous phase's chip thread on the link's
// io thread, so a dispatch that replaced a phase mid-tick stalled heartbeats
// and acks until the chip's GEMMs ended.
TEST_P(PhaseExecutorTest, StartReturnsWhileTheReplacedPhaseIsStillBusyInATick) {
  Outbox outbox("r-test", 1);
  Gate gate;
  auto chip = std::make_unique<FakeChip>("F-00");
  chip->after_slice = [&gate](FakeChip&) { gate.pass(); };
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::move(chip));
  PhaseExecutor executor(std::move(chips), outbox, unpaced());

  executor.start(phase(1, {step(0, "gemm", 10, gemm_params())}, {"F-00"}));
  ASSERT_TRUE(gate.wait_entered(10s));

  // The chip is inside its tick; replacing its phase must not wait for it.
  auto replaced = std::async(std::launch::async,
                             [&] { executor.start(phase(2, {step(0, "gemm", 0.5, gemm_params())}, {"F-00"})); });
  const bool returned = replaced.wait_for(10s) == std::future_status::ready;
  EXPECT_TRUE(executor.busy());
  gate.open();
  ASSERT_TRUE(returned) << "start() waited for the chip's tick";
  ASSERT_TRUE(executor.wait_idle(30s));

  const auto d = testing::drain(outbox);
  const auto* old_result = result_of(d, 1);
  const auto* new_result = result_of(d, 2);
  ASSERT_NE(old_result, nullptr);
  ASSERT_NE(new_result, nullptr);
  EXPECT_FALSE(old_result->completed());
  EXPECT_TRUE(new_result->completed()) << new_result->note();
}

// A restarted daemon dispatches the phase it was in again: a chip that
// finished it sends the same results again and does not run it twice; a
// chip still running it goes on (design §5a).
TEST_P(PhaseExecutorTest, ADispatchOfAFinishedPhaseSendsItsResultsAgainWithoutRunningIt) {
  Outbox outbox("r-test", 1);
  auto chip = std::make_unique<FakeChip>("F-00");
  std::atomic<int> slices = 0;
  chip->after_slice = [&slices](FakeChip&) { ++slices; };
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::move(chip));
  PhaseExecutor executor(std::move(chips), outbox, unpaced());

  const auto dispatch = phase(7, {step(0, "gemm", 0.5, gemm_params())}, {"F-00"});
  executor.start(dispatch);
  ASSERT_TRUE(executor.wait_idle(30s));
  const auto first = testing::drain(outbox);
  ASSERT_EQ(first.results.size(), 1u);
  const int ran = slices;
  ASSERT_GT(ran, 0);

  executor.start(dispatch);
  EXPECT_FALSE(executor.busy());
  const auto again = testing::drain(outbox);
  ASSERT_EQ(again.results.size(), 1u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again.results[0], first.results[0]))
      << again.results[0].DebugString();
  EXPECT_TRUE(again.samples.empty());
  EXPECT_EQ(slices, ran) << "the phase ran a second time";

  // Another phase of the run is run as usual.
  executor.start(phase(7, {step(1, "gemm", 0.5, gemm_params())}, {"F-00"}, 10, 1));
  ASSERT_TRUE(executor.wait_idle(30s));
  EXPECT_GT(slices, ran);
}

// The daemon moves on when every chip reported: the executor says when the
// rack's last chip finished its phase (the agent then sends at once), and
// only then, with every chip's results in the outbox.
TEST_P(PhaseExecutorTest, TheRacksLastChipToFinishItsPhaseSaysTheRackIsIdle) {
  Outbox outbox("r-test", 1);
  Gate gate;
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::make_unique<FakeChip>("F-00"));
  auto held = std::make_unique<FakeChip>("F-01");
  held->after_slice = [&gate](FakeChip&) { gate.pass(); };
  chips.push_back(std::move(held));
  PhaseExecutor executor(std::move(chips), outbox, unpaced());
  std::mutex mutex;
  std::condition_variable idle;
  int calls = 0;
  std::size_t results_then = 0;
  executor.set_idle_listener([&] {
    std::lock_guard lock(mutex);
    ++calls;
    results_then = testing::drain(outbox).results.size();
    idle.notify_all();
  });

  executor.start(phase(3, {step(0, "gemm", 0.5, gemm_params())}, {"F-00", "F-01"}));
  ASSERT_TRUE(gate.wait_entered(10s));  // F-01 is held inside its first tick
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(calls, 0) << "a chip still runs";
  }
  gate.open();
  std::unique_lock lock(mutex);
  ASSERT_TRUE(idle.wait_for(lock, 30s, [&] { return calls > 0; }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(results_then, 2u) << "both chips' results are in the outbox when the rack goes idle";
}

// Two runs can never drive one rack: a dispatch whose lease (its fencing
// token) is older than the newest the agent has seen is refused, its chips
// answering not completed with the reason, and the chip is not touched.
TEST_P(PhaseExecutorTest, ADispatchWithAStaleFencingTokenIsRefused) {
  Outbox outbox("r-test", 1);
  auto chip = std::make_unique<FakeChip>("F-00");
  std::atomic<int> slices = 0;
  chip->after_slice = [&slices](FakeChip&) { ++slices; };
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::move(chip));
  PhaseExecutor executor(std::move(chips), outbox, unpaced());

  auto newer = phase(8, {step(0, "gemm", 0.5, gemm_params())}, {"F-00"});
  newer.set_fencing_token(12);
  executor.start(newer);
  ASSERT_TRUE(executor.wait_idle(30s));
  testing::drain(outbox);
  const int ran = slices;
  EXPECT_EQ(executor.fencing_token(), 12u);

  auto stale = phase(7, {step(0, "gemm", 0.5, gemm_params())}, {"F-00"});
  stale.set_fencing_token(11);
  executor.start(stale);
  EXPECT_FALSE(executor.busy());
  const auto refused = testing::drain(outbox);
  ASSERT_EQ(refused.results.size(), 1u);
  EXPECT_EQ(refused.results[0].run_id(), 7u);
  EXPECT_FALSE(refused.results[0].completed());
  EXPECT_NE(refused.results[0].note().find("fencing token 11 is older than 12"), std::string::npos)
      << refused.results[0].note();
  EXPECT_EQ(slices, ran) << "the stale dispatch ran";

  // The same token again, or a newer one, runs.
  auto same = phase(8, {step(1, "gemm", 0.5, gemm_params())}, {"F-00"}, 10, 1);
  same.set_fencing_token(12);
  executor.start(same);
  ASSERT_TRUE(executor.wait_idle(30s));
  EXPECT_GT(slices, ran);
}

INSTANTIATE_TEST_SUITE_P(Loops, PhaseExecutorTest, ::testing::Values(ChipLoops::thread_per_chip, ChipLoops::fibers),
                         [](const auto& info) {
                           return info.param == ChipLoops::fibers ? std::string("Fibers") : std::string("Threads");
                         });

// A rack of eight simulated chips in a ring, L-2 with a link that corrupts
// frames, running a checked allreduce beside a verified GEMM (the shape of
// standard.yaml's last phase), on threads or on fibers: the results, what a
// verdict is judged from, are the same either way, to the bit.
struct SimRack {
  std::vector<std::unique_ptr<device::Chip>> chips;
  std::unique_ptr<device::Fabric> fabric;
  std::vector<std::string> serials;
};

SimRack sim_rack() {
  auto catalog = device::SkuCatalog::load_directory(std::string(KILN_SOURCE_DIR) + "/device/skus");
  EXPECT_TRUE(catalog.ok());
  device::Lab lab;
  lab.name = "loops-test";
  lab.seed = 5;
  device::RackSpec rack;
  rack.id = "r01";
  device::Fault crc;
  crc.kind = device::FaultKind::link_crc;
  crc.link = 1;
  crc.ber = 1e-7;
  for (std::uint32_t slot = 0; slot < 8; ++slot) {
    rack.chips.push_back(device::ChipSpec{slot, "L-" + std::to_string(slot), "trn2-sim", {}});
  }
  rack.chips[2].faults.push_back(crc);
  lab.racks.push_back(rack);
  SimRack out;
  auto chips = device::make_sim_chips(lab, lab.racks[0], *catalog);
  EXPECT_TRUE(chips.ok());
  auto fabric = device::make_sim_fabric(lab.racks[0], *chips);
  EXPECT_TRUE(fabric.ok());
  out.chips = std::move(*chips);
  out.fabric = std::move(*fabric);
  for (const auto& chip : rack.chips) out.serials.push_back(chip.serial);
  return out;
}

std::vector<kiln::v1::ChipStepResult> run_sim_rack(ChipLoops loops) {
  SimRack rack = sim_rack();
  Outbox outbox("r01", 1);
  ChipPhaseOptions options;
  options.time_scale = 0;
  options.loops = loops;
  PhaseExecutor executor(std::move(rack.chips), outbox, options, std::move(rack.fabric));
  const auto& serials = rack.serials;
  executor.start(
      phase(3,
            {step(0, "collective", 3, {{"op", "allreduce"}, {"sizes", "1048576,67108864"}, {"check", "true"}}),
             step(1, "gemm", 3, gemm_params("abft+golden", "fp8"))},
            serials));
  EXPECT_TRUE(executor.wait_idle(60s));
  auto results = testing::drain(outbox).results;
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.serial(), a.step_index()) < std::make_tuple(b.serial(), b.step_index());
  });
  for (auto& r : results) {
    for (auto& d : *r.mutable_detections()) {
      d.clear_first_wall_unix_ms();  // when, in wall time, differs from run to run
      d.clear_last_wall_unix_ms();
    }
  }
  return results;
}

TEST(PhaseExecutorLoops, ASimulatedRackGivesTheSameResultsOnFibersAsOnThreads) {
  const auto threads = run_sim_rack(ChipLoops::thread_per_chip);
  const auto fibers = run_sim_rack(ChipLoops::fibers);
  ASSERT_EQ(threads.size(), 16u);
  ASSERT_EQ(fibers.size(), threads.size());
  for (std::size_t i = 0; i < threads.size(); ++i) {
    EXPECT_TRUE(threads[i].completed()) << threads[i].serial() << ": " << threads[i].note();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(fibers[i], threads[i]))
        << "fibers:\n"
        << fibers[i].DebugString() << "threads:\n"
        << threads[i].DebugString();
  }
  // The planted fault is seen (the receiving end's CRC errors), so the comparison covers a detection.
  int with_detections = 0;
  for (const auto& r : threads) with_detections += r.detections_size() > 0 ? 1 : 0;
  EXPECT_GT(with_detections, 0);
}

// A rack whose chips wait for each other in a collective and sleep to keep
// their time scale (whichever they are doing when it comes) ends on an
// abort, on fibers as on threads: every step ends not completed, saying it
// was aborted (or that an aborted peer left its collective), and nothing is
// left running.
TEST_P(PhaseExecutorTest, AnAbortEndsAPacedCollectivePhaseOnEveryChip) {
  SimRack rack = sim_rack();
  Outbox outbox("r01", 1);
  ChipPhaseOptions options = unpaced();
  options.time_scale = 1;  // ten minutes would take ten minutes: only the abort ends it
  PhaseExecutor executor(std::move(rack.chips), outbox, options, std::move(rack.fabric));
  executor.start(phase(4, {step(0, "collective", 600, {{"op", "allreduce"}, {"sizes", "1048576"}, {"check", "true"}})},
                       rack.serials));
  ASSERT_TRUE(executor.busy());
  executor.abort(4);
  ASSERT_TRUE(executor.wait_idle(30s)) << "a chip did not stop";
  const auto d = testing::drain(outbox);
  ASSERT_EQ(d.results.size(), rack.serials.size());
  for (const auto& r : d.results) {
    EXPECT_FALSE(r.completed()) << r.serial();
    // Aborted itself, or its collective ended because a chip aborted first left it.
    const bool said =
        r.note().find("aborted") != std::string::npos || r.note().find("stopped taking part") != std::string::npos;
    EXPECT_TRUE(said) << r.serial() << ": " << r.note();
  }
}

}  // namespace
}  // namespace kiln::agent
