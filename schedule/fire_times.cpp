#include "schedule/fire_times.hpp"

#include <stdexcept>

#include <date/tz.h>

namespace kiln::schedule {
namespace {

// 400 Gregorian years: the calendar, weekdays included, repeats exactly, so
// an expression with no fire time in one cycle never fires (and the parser
// refuses those). A day-of-month and weekday both required can be 11 years
// apart ("0 1 */21 5 5": May 1 or 22 that is a Friday, 2026 then 2037).
constexpr int kHorizonDays = 146'097;

// The instant a local wall-clock time denotes in `zone`, by the rules in the header.
Instant to_instant(const date::time_zone& zone, date::local_seconds local) {
  const date::local_info info = zone.get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent: return info.second.begin;
    case date::local_info::ambiguous:  // first.offset: the earlier of the two
    case date::local_info::unique:
    default: return Instant{local.time_since_epoch() - info.first.offset};
  }
}

}  // namespace

Result<const date::time_zone*> find_time_zone(std::string_view name) {
  if (name.empty()) return make_error(ErrorCode::invalid_argument, "time zone: empty name (e.g. Europe/Berlin, UTC)");
  try {
    return date::locate_zone(name);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::not_found,
                      "time zone \"{}\": not in the zone database /usr/share/zoneinfo (Debian package tzdata): {}",
                      name, e.what());
  }
}

Result<Instant> next_fire_after(const CronExpression& cron, const date::time_zone& zone, Instant after) {
  // Start from the local minute after `after`, one hour early: the local
  // clock may read the same hour twice, and a candidate earlier on the local
  // clock may still be later as an instant. Candidates are visited in local
  // order, which is also instant order (see to_instant), so the first one
  // after `after` is the answer.
  const auto local_after = zone.to_local(after);
  const auto start = date::floor<std::chrono::minutes>(local_after) - std::chrono::hours(1);
  date::local_days day = date::floor<date::days>(start);
  for (int i = 0; i <= kHorizonDays; ++i, day += date::days(1)) {
    const date::year_month_day ymd{day};
    const int weekday = static_cast<int>(date::weekday{day}.c_encoding());
    if (!cron.day(static_cast<int>(static_cast<unsigned>(ymd.month())),
                  static_cast<int>(static_cast<unsigned>(ymd.day())), weekday)) {
      continue;
    }
    for (int h = 0; h < 24; ++h) {
      if (!cron.hour(h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!cron.minute(m)) continue;
        const date::local_seconds local = day + std::chrono::hours(h) + std::chrono::minutes(m);
        if (local < start) continue;
        const Instant at = to_instant(zone, local);
        if (at > after) return at;
      }
    }
  }
  return make_error(ErrorCode::not_found, "cron \"{}\" does not fire within 400 years", cron.text());
}

std::vector<Instant> fire_times_between(const CronExpression& cron, const date::time_zone& zone, Instant after,
                                        Instant until, std::size_t limit) {
  std::vector<Instant> out;
  Instant cursor = after;
  while (out.size() < limit) {
    const Result<Instant> next = next_fire_after(cron, zone, cursor);
    if (!next || *next > until) break;
    out.push_back(*next);
    cursor = *next;
  }
  return out;
}

std::string format_local(const date::time_zone& zone, Instant instant) {
  const date::zoned_seconds zoned{&zone, instant};
  return date::format("%Y-%m-%d %H:%M %Z", zoned);
}

}  // namespace kiln::schedule
