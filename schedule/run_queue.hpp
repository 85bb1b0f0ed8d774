#pragma once
// The fair queue (docs/scheduling.md): which waiting runs start now, and why
// each other one waits. Pure: the daemon passes the waiting runs, what holds
// each rack and the time, and acts on the answer.
//
// - Priority ages: a run's effective priority grows by one for every
//   `aging` it has waited, so low-priority work is never starved.
// - A run takes all its racks at once or none. Runs are visited by effective
//   priority (then age, then id); a run that cannot start claims its racks,
//   so nothing visited later may take them: a multi-rack run waits only for
//   the racks' current holders, never for small runs that keep overtaking it.
//   Later runs still start on racks nobody ahead of them needs, and on a
//   free rack kept for a run ahead when their maximum wall time ends before
//   that run could start anyway (its racks' leases and reservations expire):
//   backfill that never delays the run ahead.
// - A run that waited longer than its queue timeout leaves the queue, with
//   the reason it was waiting for.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "schedule/fire_times.hpp"

namespace kiln::schedule {

struct WaitingRun {
  std::uint64_t id = 0;
  int priority = 0;  // higher first
  Instant queued_at;
  std::vector<std::string> racks;
  std::optional<std::chrono::seconds> queue_timeout;
  std::optional<std::chrono::seconds> max_wall;  // its lease length; needed to backfill
};

// What holds a rack now (absent from the map: free).
struct RackHold {
  enum class Kind { run_lease, reservation, maintenance, offline };
  Kind kind = Kind::run_lease;
  std::uint64_t run_id = 0;      // run_lease
  std::string by;                // reservation: who; maintenance: who set it
  std::optional<Instant> until;  // lease or reservation expiry
  std::string reason;            // reservation/maintenance reason
};

struct QueueSettings {
  std::chrono::seconds aging{std::chrono::minutes(30)};  // +1 priority per this much waiting
};

struct QueueDecision {
  std::vector<std::uint64_t> start;                // in order; their racks are free and now theirs
  std::map<std::uint64_t, std::string> waiting;    // run → "waiting for r02: leased by run 14 until 06:10 UTC"
  std::map<std::uint64_t, std::string> timed_out;  // run → "waited 2h (queue timeout 2h) for r02: …"
};

QueueDecision decide_queue(const std::vector<WaitingRun>& runs, const std::map<std::string, RackHold>& holds,
                           Instant now, const QueueSettings& settings, const date::time_zone& zone);

// The effective priority of `run` at `now`.
double effective_priority(const WaitingRun& run, Instant now, const QueueSettings& settings);

}  // namespace kiln::schedule
