#pragma once
// Time for Kiln: wall-clock timestamps, and a scaled clock that maps
// simulated seconds onto wall time (time_scale simulated seconds per wall
// second). The simulator advances in simulated time only; the scaled clock
// merely paces it so that a run at time_scale 60 lasts 1/60 of its length.

#include <chrono>
#include <cstdint>
#include <string>

#include "core/units.hpp"

namespace kiln {

using WallClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

// Milliseconds since the Unix epoch, the form timestamps travel in.
std::int64_t unix_ms_now();
// "2026-11-25T17:32:49.123Z"
std::string format_iso8601(std::int64_t unix_ms);

class ScaledClock {
 public:
  // time_scale: simulated seconds per wall second, > 0.
  explicit ScaledClock(double time_scale);
  // Simulated time 0 at `start` (which may be past).
  ScaledClock(double time_scale, SteadyClock::time_point start);

  double time_scale() const { return scale_; }
  // Simulated time elapsed since construction (or the last restart()).
  Seconds now() const;
  void restart();
  // The wall instant at which simulated time `sim` is reached.
  SteadyClock::time_point wall_at(Seconds sim) const;

  // Pacing a loop: true when, at `now`, the loop is ahead of `sim` by at
  // least `min_ahead` of wall time, so worth sleeping until wall_at(sim)
  // (the chips' loops sleep with agent::sleep_until, which suspends only
  // the chip's fiber). A loop
  // less ahead runs on: at a fast time scale it then sleeps once per
  // min_ahead instead of once per tick (a thousand chips ticking every
  // 1.7 ms of wall time at 60x spent the host in futex wake-ups), and its
  // samples' wall-clock stamps run at most min_ahead early.
  bool worth_sleeping(Seconds sim, SteadyClock::time_point now, SteadyClock::duration min_ahead) const {
    return wall_at(sim) - now >= min_ahead;
  }
  // `t` rounded up to the next multiple of `grid` of the steady clock. Loops
  // that sleep until on_grid(wall_at(sim)) wake together: a rack's chips
  // share a thread, which then wakes once a grid step rather than once per
  // chip (a thousand chips waking one by one cost the host 50,000 thread
  // wake-ups a second). A loop woken late simply runs on until it is ahead
  // again, so its rate stays the time scale.
  static SteadyClock::time_point on_grid(SteadyClock::time_point t, SteadyClock::duration grid) {
    if (grid <= SteadyClock::duration::zero()) return t;
    const auto since = t.time_since_epoch();
    const auto steps = (since + grid - SteadyClock::duration(1)) / grid;
    return SteadyClock::time_point(steps * grid);
  }

 private:
  double scale_;
  SteadyClock::time_point start_;
};

}  // namespace kiln
