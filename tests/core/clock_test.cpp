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

TEST(ScaledClock, SleepReturnsFalseWhenStopped) {
  ScaledClock clock(1.0);
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(clock.sleep_until(Seconds{3600}, stop.get_token()));
}

TEST(Iso8601, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(1764091969123), "2025-11-25T17:32:49.123Z");
}

}  // namespace
}  // namespace kiln
