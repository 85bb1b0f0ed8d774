#pragma once
// When a schedule fires: its cron expression read as wall-clock times in an
// explicit IANA time zone (the zone database of Debian's tzdata, through
// Howard Hinnant's date library), mapped onto instants.
//
// Daylight-saving rules (docs/scheduling.md):
// - A local time that does not exist (the hour skipped when clocks spring
//   forward) fires once, at the instant the gap ends (02:30 → 03:00).
// - A local time that happens twice (the hour repeated when clocks fall
//   back) fires once, at its first occurrence.
// - Local times that map onto the same instant fire once.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "schedule/cron_expression.hpp"

namespace date {
class time_zone;
}

namespace kiln::schedule {

using Instant = std::chrono::sys_seconds;

// Fire times are whole seconds; the daemon keeps Unix milliseconds. The
// floor, so that "after t" never skips a fire time in t's own second.
inline Instant instant_of_unix_ms(std::int64_t unix_ms) {
  return Instant(std::chrono::seconds(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000));
}
inline std::int64_t unix_ms_of(Instant instant) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(instant.time_since_epoch()).count();
}

// "Europe/Berlin", "America/New_York", "UTC"; an unknown name is an error
// that says where the zone database is read from.
Result<const date::time_zone*> find_time_zone(std::string_view name);

// The first fire time strictly after `after`, or not_found when there is
// none within 400 years, one whole cycle of the calendar (a parsed
// expression always has one: a leap day that must be a Friday, the rarest
// it can ask for, comes every 28 years or so, at most 40).
Result<Instant> next_fire_after(const CronExpression& cron, const date::time_zone& zone, Instant after);

// Every fire time in (after, until], at most `limit` of them, in order.
std::vector<Instant> fire_times_between(const CronExpression& cron, const date::time_zone& zone, Instant after,
                                        Instant until, std::size_t limit);

// "2026-03-08 03:00 EDT": an instant as the zone's wall clock shows it.
std::string format_local(const date::time_zone& zone, Instant instant);

}  // namespace kiln::schedule
