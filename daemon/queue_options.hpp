#pragma once
// The fair queue's and the rack leases' settings (docs/scheduling.md), as
// kilnd is configured with them.

#include <chrono>
#include <cstdint>
#include <functional>

namespace kiln::daemon {

// How the queue and its leases behave; every time is read from `now_unix_ms`
// so tests move the clock instead of sleeping.
struct RunQueueOptions {
  std::function<std::int64_t()> now_unix_ms;  // null: the wall clock
  // A run's lease lasts this long past its last renewal; renewals (and the
  // sweep that ends expired leases) come every sweep_interval of real time.
  std::chrono::milliseconds lease_ttl{std::chrono::minutes(2)};
  std::chrono::milliseconds sweep_interval{std::chrono::seconds(10)};
  // The longest a person may reserve a rack or put it in maintenance.
  std::chrono::seconds max_reservation{std::chrono::hours(24)};
  std::chrono::seconds max_maintenance{std::chrono::hours(24 * 7)};
  std::chrono::seconds aging{std::chrono::minutes(30)};  // +1 priority per this much waiting
};

}  // namespace kiln::daemon
