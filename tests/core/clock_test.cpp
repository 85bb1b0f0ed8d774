#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(ScaledClock, MapsSimulatedTimeOntoScaledWallTime) {
  ScaledClock clock(100.0);
  // 1 simulated second is 10 ms of wall time at 100x.
  const auto wall = clock.wall_at(Seconds{1.0}) - clock.wall_at(Seconds{0.0});
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(wall).count(), 10);
}

// A paced loop sleeps only once it is ahead by a worthwhile wall time.
TEST(ScaledClock, APacedLoopSleepsOnlyWhenWellAhead) {
  ScaledClock clock(60.0);
  const auto start = clock.wall_at(Seconds{0.0});
  const auto slack = std::chrono::milliseconds(20);
  // 0.6 simulated s is 10 ms of wall time at 60x: not worth a sleep yet.
  EXPECT_FALSE(clock.worth_sleeping(Seconds{0.6}, start, slack));
  // 1.8 s is 30 ms ahead: sleep.
  EXPECT_TRUE(clock.worth_sleeping(Seconds{1.8}, start, slack));
  // Behind (the host cannot keep up): never.
  EXPECT_FALSE(clock.worth_sleeping(Seconds{0.6}, start + std::chrono::milliseconds(50), slack));
}

// Paced loops wake on a shared grid, never before they are due.
TEST(ScaledClock, WakeTimesRoundUpToTheGrid) {
  using std::chrono::milliseconds;
  const auto grid = milliseconds(20);
  const SteadyClock::time_point on(milliseconds(1000));
  EXPECT_EQ(ScaledClock::on_grid(on, grid), on);  // already on it
  EXPECT_EQ(ScaledClock::on_grid(on + std::chrono::nanoseconds(1), grid), on + grid);
  EXPECT_EQ(ScaledClock::on_grid(on + milliseconds(19), grid), on + grid);
  EXPECT_EQ(ScaledClock::on_grid(on + milliseconds(7), SteadyClock::duration::zero()), on + milliseconds(7));
}

TEST(Iso8601, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(1764091969123), "2025-11-25T17:32:49.123Z");
}

}  // namespace
}  // namespace kiln
