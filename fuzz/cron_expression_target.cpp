// Fuzz target: cron expressions (schedule/cron_expression.hpp) and the fire
// times computed from them (schedule/fire_times.hpp) on any text.
//
// Checked: a parse error names "cron"; an expression that parses fires
// within the horizon (the parser refuses the ones that never would); in UTC,
// where every local time exists once, each fire time is strictly after the
// one before and matches every field; in a zone with daylight saving the
// fire times still strictly increase.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <date/tz.h>

#include "fuzz/fuzz_support.hpp"
#include "schedule/fire_times.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 512) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto cron = kiln::schedule::CronExpression::parse(text);
  if (!cron) {
    KILN_FUZZ_CHECK(cron.error().message.find("cron") != std::string::npos, "error without context: {}",
                    cron.error().message);
    return 0;
  }
  using kiln::schedule::Instant;
  const Instant start{std::chrono::seconds(1'795'000'000)};  // 2026-11-18
  const auto& utc = **kiln::schedule::find_time_zone("UTC");
  const auto& berlin = **kiln::schedule::find_time_zone("Europe/Berlin");
  const auto first = kiln::schedule::next_fire_after(*cron, utc, start);
  KILN_FUZZ_CHECK(first.ok(), "\"{}\" parsed but never fires: {}", text, first.ok() ? "" : first.error().message);
  Instant previous = start;
  for (const Instant at :
       kiln::schedule::fire_times_between(*cron, utc, start, start + std::chrono::hours(24 * 400), 8)) {
    KILN_FUZZ_CHECK(at > previous, "fire times out of order for \"{}\"", text);
    const auto day = date::floor<date::days>(at);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<std::chrono::seconds> time{at - day};
    KILN_FUZZ_CHECK(time.seconds().count() == 0, "a fire time not on a minute");
    KILN_FUZZ_CHECK(cron->minute(static_cast<int>(time.minutes().count())) &&
                        cron->hour(static_cast<int>(time.hours().count())) &&
                        cron->day(static_cast<int>(static_cast<unsigned>(ymd.month())),
                                  static_cast<int>(static_cast<unsigned>(ymd.day())),
                                  static_cast<int>(date::weekday{day}.c_encoding())),
                    "\"{}\" fired at a time it does not match", text);
    previous = at;
  }
  previous = start;
  for (const Instant at :
       kiln::schedule::fire_times_between(*cron, berlin, start, start + std::chrono::hours(24 * 400), 8)) {
    KILN_FUZZ_CHECK(at > previous, "Berlin fire times out of order for \"{}\"", text);
    previous = at;
  }
  return 0;
}
