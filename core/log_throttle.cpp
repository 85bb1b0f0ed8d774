#include "core/log_throttle.hpp"

namespace kiln {

std::optional<std::uint64_t> LogThrottle::admit(Clock::time_point now) {
  if (last_ && now - *last_ < interval_) {
    ++held_;
    return std::nullopt;
  }
  last_ = now;
  const std::uint64_t held = held_;
  held_ = 0;
  return held;
}

}  // namespace kiln
