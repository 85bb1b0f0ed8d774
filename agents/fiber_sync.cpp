#include "agents/fiber_sync.hpp"

namespace kiln::agent {

bool sleep_until(SteadyClock::time_point until, const std::stop_token& stop) {
  ChipMutex mutex;
  ChipCondition cv;
  std::unique_lock lock(mutex);
  wait_or_stop(
      cv, lock, stop, [] { return false; }, until);
  return !stop.stop_requested();
}

}  // namespace kiln::agent
