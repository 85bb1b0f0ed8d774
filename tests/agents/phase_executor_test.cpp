#include "agents/phase_executor.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "agent_test_util.hpp"
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

const kiln::v1::ChipStepResult* result_of(const testing::Drained& d, std::uint64_t run_id) {
  for (const auto& r : d.results) {
    if (r.run_id() == run_id) return &r;
  }
  return nullptr;
}

// Regression: start() joined the previous phase's chip thread on the link's
// io thread, so a dispatch that replaced a phase mid-tick stalled heartbeats
// and acks until the chip's GEMMs ended.
TEST(PhaseExecutorTest, StartReturnsWhileTheReplacedPhaseIsStillBusyInATick) {
  Outbox outbox("r-test", 1);
  Gate gate;
  auto chip = std::make_unique<FakeChip>("F-00");
  chip->after_slice = [&gate](FakeChip&) { gate.pass(); };
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::move(chip));
  ChipPhaseOptions options;
  options.time_scale = 0;  // no pacing: the gate is the only wait
  PhaseExecutor executor(std::move(chips), outbox, options);

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
TEST(PhaseExecutorTest, ADispatchOfAFinishedPhaseSendsItsResultsAgainWithoutRunningIt) {
  Outbox outbox("r-test", 1);
  auto chip = std::make_unique<FakeChip>("F-00");
  std::atomic<int> slices = 0;
  chip->after_slice = [&slices](FakeChip&) { ++slices; };
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::move(chip));
  ChipPhaseOptions options;
  options.time_scale = 0;
  PhaseExecutor executor(std::move(chips), outbox, options);

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

// Two runs can never drive one rack: a dispatch whose lease (its fencing
// token) is older than the newest the agent has seen is refused, its chips
// answering not completed with the reason, and the chip is not touched.
TEST(PhaseExecutorTest, ADispatchWithAStaleFencingTokenIsRefused) {
  Outbox outbox("r-test", 1);
  auto chip = std::make_unique<FakeChip>("F-00");
  std::atomic<int> slices = 0;
  chip->after_slice = [&slices](FakeChip&) { ++slices; };
  std::vector<std::unique_ptr<device::Chip>> chips;
  chips.push_back(std::move(chip));
  ChipPhaseOptions options;
  options.time_scale = 0;
  PhaseExecutor executor(std::move(chips), outbox, options);

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

}  // namespace
}  // namespace kiln::agent
