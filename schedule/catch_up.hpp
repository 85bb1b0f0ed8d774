#pragma once
// What a schedule does about fire times it missed while the daemon was down
// (docs/scheduling.md): skip them, or run once — the latest missed fire
// time, however many were missed — if it is not older than a staleness
// limit. Either way the schedule then continues from its next fire time.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "schedule/fire_times.hpp"

namespace kiln::schedule {

struct CatchUpPolicy {
  enum class Kind { skip, run_once };
  Kind kind = Kind::skip;
  std::chrono::seconds staleness{0};  // run_once: a missed fire older than this is skipped
};

// "skip", "run-once" (no limit), "run-once-within 6h".
Result<CatchUpPolicy> parse_catch_up(std::string_view text);
std::string to_string(const CatchUpPolicy& policy);

struct CatchUpDecision {
  std::optional<Instant> run;     // the missed fire time to run now, if any
  std::optional<Instant> latest;  // the latest missed fire time, run or not
  std::size_t missed = 0;         // fire times in (last_seen, now]
  std::string reason;             // "missed 3 fire times; ran the latest (02:30 CET, 2h ago)"
};

// `last_seen`: the instant up to which fire times were handled (the daemon
// records it as it goes); `now`: the daemon's start.
CatchUpDecision decide_catch_up(const CronExpression& cron, const date::time_zone& zone, const CatchUpPolicy& policy,
                                Instant last_seen, Instant now);

// A fire time moved later by up to `jitter`, by an amount fixed by the
// schedule and the fire time, so that a restarted daemon computes the same
// instant and many schedules with one cron line do not start together.
Instant with_jitter(Instant fire, std::chrono::seconds jitter, std::uint64_t schedule_id);

}  // namespace kiln::schedule
