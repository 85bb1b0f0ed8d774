#include "schedule/run_queue.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

namespace kiln::schedule {
namespace {

using namespace std::chrono_literals;
using date::operator""_y;

const Instant kNow = Instant{date::sys_days{2026_y / 12 / 2}} + 4h;

struct Queue : ::testing::Test {
  const date::time_zone& tz = **find_time_zone("UTC");
  QueueSettings settings;
  std::map<std::string, RackHold> holds;

  QueueDecision decide(const std::vector<WaitingRun>& runs) { return decide_queue(runs, holds, kNow, settings, tz); }
};

WaitingRun run(std::uint64_t id, int priority, std::chrono::minutes waited, std::vector<std::string> racks) {
  return WaitingRun{id, priority, kNow - waited, std::move(racks), std::nullopt, std::nullopt};
}

TEST_F(Queue, HigherPriorityFirstThenOlder) {
  const auto d = decide({run(1, 0, 10min, {"r01"}), run(2, 5, 1min, {"r01"}), run(3, 0, 20min, {"r02"})});
  EXPECT_EQ(d.start, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(d.waiting.at(1), "waiting for r01: kept for run 2, ahead in the queue");
}

TEST_F(Queue, AgingLetsLowPriorityWorkThroughEventually) {
  // Priority 0 queued 3 h ago (+6 at 30 min per step) beats a fresh priority 5.
  const auto d = decide({run(1, 5, 0min, {"r01"}), run(2, 0, 180min, {"r01"})});
  EXPECT_EQ(d.start, (std::vector<std::uint64_t>{2}));
  EXPECT_DOUBLE_EQ(effective_priority(run(2, 0, 180min, {}), kNow, settings), 6.0);
}

TEST_F(Queue, AMultiRackRunTakesAllItsRacksOrWaitsWithoutBeingOvertaken) {
  holds["r02"] = RackHold{RackHold::Kind::run_lease, 14, "", kNow + 2h + 10min, ""};
  // Run 1 needs r01 and r02; r02 is leased. Small run 2 on r01 is behind it: it may not take r01.
  const auto d = decide({run(1, 0, 30min, {"r01", "r02"}), run(2, 0, 5min, {"r01"}), run(3, 0, 1min, {"r03"})});
  EXPECT_EQ(d.start, (std::vector<std::uint64_t>{3})) << "r03 is needed by nobody ahead";
  EXPECT_EQ(d.waiting.at(1), "waiting for r02: leased by run 14 until 2026-12-02 06:10 UTC");
  EXPECT_EQ(d.waiting.at(2), "waiting for r01: kept for run 1, ahead in the queue");
}

TEST_F(Queue, BackfillOnlyWhenItEndsBeforeTheRunAheadCouldStart) {
  holds["r02"] = RackHold{RackHold::Kind::run_lease, 14, "", kNow + 2h, ""};
  WaitingRun short_one = run(2, 0, 5min, {"r01"});
  short_one.max_wall = 90min;
  WaitingRun long_one = run(3, 0, 4min, {"r01"});
  long_one.max_wall = 3h;
  const auto d = decide({run(1, 0, 30min, {"r01", "r02"}), short_one, long_one});
  EXPECT_EQ(d.start, (std::vector<std::uint64_t>{2})) << "90 min ends before r02's lease does";
  EXPECT_EQ(d.waiting.at(3), "waiting for r01: kept for run 2, ahead in the queue");
}

TEST_F(Queue, ReservationsMaintenanceAndOfflineRacksSayWho) {
  holds["r01"] = RackHold{RackHold::Kind::reservation, 0, "alice", kNow + 2h, "rework"};
  holds["r02"] = RackHold{RackHold::Kind::maintenance, 0, "bob", std::nullopt, "fan swap"};
  holds["r03"] = RackHold{RackHold::Kind::offline, 0, "", std::nullopt, ""};
  const auto d = decide({run(1, 0, 1min, {"r01", "r02", "r03"})});
  EXPECT_TRUE(d.start.empty());
  EXPECT_EQ(d.waiting.at(1),
            "waiting for r01: reserved by alice until 2026-12-02 06:00 UTC (rework); r02: in maintenance by bob (fan "
            "swap); r03: its agent is not connected");
}

TEST_F(Queue, AQueueTimeoutEndsTheWaitWithItsReasonAndFreesTheClaim) {
  holds["r02"] = RackHold{RackHold::Kind::run_lease, 14, "", kNow + 1h, ""};
  WaitingRun stale = run(1, 9, 150min, {"r01", "r02"});
  stale.queue_timeout = 2h;
  const auto d = decide({stale, run(2, 0, 1min, {"r01"})});
  EXPECT_EQ(d.timed_out.at(1),
            "waited 2h30m (queue timeout 2h), waiting for r02: leased by run 14 until 2026-12-02 "
            "05:00 UTC");
  EXPECT_EQ(d.start, (std::vector<std::uint64_t>{2})) << "a run that left the queue keeps nothing";
}

}  // namespace
}  // namespace kiln::schedule
