#include "schedule/catch_up.hpp"

#include "core/units.hpp"

namespace kiln::schedule {
namespace {

constexpr std::size_t kMissedLimit = 100000;  // counted, not stored: a year of once-a-minute

std::string ago(std::chrono::seconds age) { return format_duration(Seconds(static_cast<double>(age.count()))); }

}  // namespace

Result<CatchUpPolicy> parse_catch_up(std::string_view text) {
  if (text == "skip") return CatchUpPolicy{CatchUpPolicy::Kind::skip, {}};
  if (text == "run-once") return CatchUpPolicy{CatchUpPolicy::Kind::run_once, std::chrono::seconds::max()};
  constexpr std::string_view kWithin = "run-once-within ";
  if (text.substr(0, kWithin.size()) == kWithin) {
    auto limit = parse_duration(text.substr(kWithin.size()));
    if (!limit) return make_error(ErrorCode::invalid_argument, "catch-up \"{}\": {}", text, limit.error().message);
    if (limit->count() <= 0) return make_error(ErrorCode::invalid_argument, "catch-up \"{}\": limit must be > 0", text);
    return CatchUpPolicy{CatchUpPolicy::Kind::run_once,
                         std::chrono::seconds(static_cast<std::int64_t>(limit->count()))};
  }
  return make_error(ErrorCode::invalid_argument,
                    "catch-up \"{}\": expected skip, run-once or run-once-within DURATION (e.g. 6h)", text);
}

std::string to_string(const CatchUpPolicy& policy) {
  if (policy.kind == CatchUpPolicy::Kind::skip) return "skip";
  if (policy.staleness == std::chrono::seconds::max()) return "run-once";
  return "run-once-within " + ago(policy.staleness);
}

CatchUpDecision decide_catch_up(const CronExpression& cron, const date::time_zone& zone, const CatchUpPolicy& policy,
                                Instant last_seen, Instant now) {
  CatchUpDecision decision;
  std::optional<Instant>& latest = decision.latest;
  Instant cursor = last_seen;
  while (decision.missed < kMissedLimit) {
    const Result<Instant> next = next_fire_after(cron, zone, cursor);
    if (!next || *next > now) break;
    latest = *next;
    cursor = *next;
    ++decision.missed;
  }
  if (!latest) {
    decision.reason = "no fire time missed";
    return decision;
  }
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *latest);
  const std::string what = fmt::format("missed {} fire time{}; the latest {} ({} ago)", decision.missed,
                                       decision.missed == 1 ? "" : "s", format_local(zone, *latest), ago(age));
  if (policy.kind == CatchUpPolicy::Kind::skip) {
    decision.reason = what + ": skipped (catch-up skip)";
  } else if (age > policy.staleness) {
    decision.reason = what + ": skipped, older than the catch-up limit " + ago(policy.staleness);
  } else {
    decision.run = latest;
    decision.reason = what + ": run once now";
  }
  return decision;
}

Instant with_jitter(Instant fire, std::chrono::seconds jitter, std::uint64_t schedule_id) {
  if (jitter.count() <= 0) return fire;
  // splitmix64 of (schedule, fire time): stable across restarts and builds.
  std::uint64_t x = schedule_id * 0x9E3779B97F4A7C15ULL ^ static_cast<std::uint64_t>(fire.time_since_epoch().count());
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return fire + std::chrono::seconds(static_cast<std::int64_t>(x % static_cast<std::uint64_t>(jitter.count())));
}

}  // namespace kiln::schedule
