#pragma once
// Lets a repeated message through once per interval and counts the rest, so
// that a storm (accept failing at the descriptor limit, a flood of refused
// peers) writes one line per interval instead of millions. The caller gives
// the time, so tests need no clock. Not thread-safe: one per thread.

#include <chrono>
#include <cstdint>
#include <optional>

namespace kiln {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogThrottle(Clock::duration interval) : interval_(interval) {}

  // When this occurrence may be logged: how many were held back since the
  // last one that was. std::nullopt: hold this one back (it is counted).
  std::optional<std::uint64_t> admit(Clock::time_point now);

 private:
  Clock::duration interval_;
  std::optional<Clock::time_point> last_;
  std::uint64_t held_ = 0;
};

}  // namespace kiln
