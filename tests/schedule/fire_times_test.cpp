#include "schedule/fire_times.hpp"

#include <gtest/gtest.h>

#include "tests/schedule/instants.hpp"

namespace kiln::schedule {
namespace {

using namespace std::chrono_literals;
using date::operator""_y;

using testing::utc;

const date::time_zone& zone(std::string_view name) {
  auto found = find_time_zone(name);
  EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().message);
  return **found;
}

CronExpression cron(std::string_view text) { return *CronExpression::parse(text); }

std::vector<std::string> local_times(const date::time_zone& tz, const std::vector<Instant>& instants) {
  std::vector<std::string> out;
  for (const Instant& i : instants) out.push_back(format_local(tz, i));
  return out;
}

TEST(FireTimes, DailyInUtc) {
  const auto& tz = zone("UTC");
  const auto next = next_fire_after(cron("30 2 * * *"), tz, utc(2026_y / 12 / 1, 2h, 30min));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, utc(2026_y / 12 / 2, 2h, 30min)) << "strictly after: the fire time itself is not repeated";
}

// Berlin springs forward on 2026-03-29 at 02:00 CET → 03:00 CEST: 02:30 does not exist that night.
TEST(FireTimes, SpringForwardNightFiresOnceWhenTheGapEnds) {
  const auto& tz = zone("Europe/Berlin");
  const auto fires =
      fire_times_between(cron("30 2 * * *"), tz, utc(2026_y / 3 / 27, 12h), utc(2026_y / 3 / 31, 0h), 10);
  EXPECT_EQ(local_times(tz, fires),
            (std::vector<std::string>{"2026-03-28 02:30 CET", "2026-03-29 03:00 CEST", "2026-03-30 02:30 CEST"}));
}

// Berlin falls back on 2026-10-25 at 03:00 CEST → 02:00 CET: 02:30 happens twice that night.
TEST(FireTimes, FallBackNightFiresOnceAtTheFirstOccurrence) {
  const auto& tz = zone("Europe/Berlin");
  const auto fires =
      fire_times_between(cron("30 2 * * *"), tz, utc(2026_y / 10 / 23, 12h), utc(2026_y / 10 / 27, 0h), 10);
  ASSERT_EQ(fires.size(), 3u);
  EXPECT_EQ(fires[1], utc(2026_y / 10 / 25, 0h, 30min)) << "02:30 CEST, not 02:30 CET an hour later";
  EXPECT_EQ(local_times(tz, fires),
            (std::vector<std::string>{"2026-10-24 02:30 CEST", "2026-10-25 02:30 CEST", "2026-10-26 02:30 CET"}));
}

TEST(FireTimes, AskedDuringTheRepeatedHourItDoesNotFireAgain) {
  const auto& tz = zone("Europe/Berlin");
  // 02:40 CET, the second pass through 02:xx: the 02:30 of this night already fired.
  const auto next = next_fire_after(cron("30 2 * * *"), tz, utc(2026_y / 10 / 25, 1h, 40min));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(format_local(tz, *next), "2026-10-26 02:30 CET");
}

// New York: 2026-03-08 02:00 EST → 03:00 EDT, 2026-11-01 02:00 EDT → 01:00 EST.
TEST(FireTimes, HourlyAcrossBothChangesNeverFiresTwiceAtOneInstant) {
  const auto& tz = zone("America/New_York");
  const auto spring =
      fire_times_between(cron("0 * * * *"), tz, utc(2026_y / 3 / 8, 5h, 30min), utc(2026_y / 3 / 8, 8h), 10);
  EXPECT_EQ(local_times(tz, spring),
            (std::vector<std::string>{"2026-03-08 01:00 EST", "2026-03-08 03:00 EDT", "2026-03-08 04:00 EDT"}));
  const auto fall =
      fire_times_between(cron("0 * * * *"), tz, utc(2026_y / 11 / 1, 3h, 30min), utc(2026_y / 11 / 1, 8h), 10);
  EXPECT_EQ(local_times(tz, fall), (std::vector<std::string>{"2026-11-01 00:00 EDT", "2026-11-01 01:00 EDT",
                                                             "2026-11-01 02:00 EST", "2026-11-01 03:00 EST"}));
}

TEST(FireTimes, WeekdaysAndMonthEnds) {
  const auto& tz = zone("UTC");
  // 2026-12-04 is a Friday: the next weekday 22:00 after Friday evening is Monday.
  const auto next = next_fire_after(cron("0 22 * * mon-fri"), tz, utc(2026_y / 12 / 4, 23h));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, utc(2026_y / 12 / 7, 22h));
  const auto leap = next_fire_after(cron("0 0 29 2 *"), tz, utc(2026_y / 12 / 1, 0h));
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(*leap, utc(2028_y / 2 / 29, 0h));
  const auto the_31st =
      fire_times_between(cron("0 6 31 * *"), tz, utc(2026_y / 1 / 1, 0h), utc(2026_y / 12 / 31, 23h), 20);
  EXPECT_EQ(the_31st.size(), 7u) << "seven months of 2026 have a 31st";
}

// Found by the cron fuzz target: a day of month written with '*' ("*/21":
// the 1st and 22nd) and a weekday are both required (Vixie cron), and May
// the 1st or 22nd is a Friday only in 2026, 2037, 2043, ... A ten-year search
// called this expression, which parses, one that never fires.
TEST(FireTimes, ADayOfMonthAndAWeekdayBothRequiredFireEvenElevenYearsApart) {
  const auto next = next_fire_after(cron("0 1 */21 5 5/6"), zone("UTC"), utc(2026_y / 11 / 18, 0h));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(*next, utc(2037_y / 5 / 1, 1h));
  // February the 1st or 29th that is a Friday: after 2036, not until 2041.
  const auto february_friday = next_fire_after(cron("0 0 */28 2 fri"), zone("UTC"), utc(2036_y / 3 / 1, 0h));
  ASSERT_TRUE(february_friday.ok()) << february_friday.error().message;
  EXPECT_EQ(*february_friday, utc(2041_y / 2 / 1, 0h));
}

TEST(FireTimes, UnknownZoneSaysWhereZonesComeFrom) {
  const auto found = find_time_zone("Mars/Olympus_Mons");
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.error().message.find("tzdata"), std::string::npos) << found.error().message;
  EXPECT_FALSE(find_time_zone("").ok());
}

}  // namespace
}  // namespace kiln::schedule
