#include "core/log_throttle.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottle, LetsOneThroughPerIntervalAndCountsTheRest) {
  LogThrottle throttle(1s);
  const LogThrottle::Clock::time_point t0{};
  EXPECT_EQ(throttle.admit(t0), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(throttle.admit(t0 + 1ms * i));
  // The next interval's first occurrence says how many were held back.
  EXPECT_EQ(throttle.admit(t0 + 1s), 1000u);
  EXPECT_FALSE(throttle.admit(t0 + 1500ms));
  EXPECT_EQ(throttle.admit(t0 + 2s), 1u);
  EXPECT_EQ(throttle.admit(t0 + 10s), 0u);
}

}  // namespace
}  // namespace kiln
