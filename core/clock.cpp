#include "core/clock.hpp"

#include <cassert>
#include <ctime>

#include <fmt/format.h>

namespace kiln {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::now().time_since_epoch()).count();
}

std::string format_iso8601(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(unix_ms % 1000));
}

ScaledClock::ScaledClock(double time_scale) : ScaledClock(time_scale, SteadyClock::now()) {}

ScaledClock::ScaledClock(double time_scale, SteadyClock::time_point start) : scale_(time_scale), start_(start) {
  assert(time_scale > 0);
}

Seconds ScaledClock::now() const { return std::chrono::duration_cast<Seconds>(SteadyClock::now() - start_) * scale_; }

void ScaledClock::restart() { start_ = SteadyClock::now(); }

SteadyClock::time_point ScaledClock::wall_at(Seconds sim) const {
  return start_ + std::chrono::duration_cast<SteadyClock::duration>(sim / scale_);
}

}  // namespace kiln
