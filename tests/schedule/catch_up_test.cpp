#include "schedule/catch_up.hpp"

#include <gtest/gtest.h>

#include "tests/schedule/instants.hpp"

namespace kiln::schedule {
namespace {

using namespace std::chrono_literals;
using date::operator""_y;

using testing::utc;

struct Fixture : ::testing::Test {
  const date::time_zone& tz = **find_time_zone("UTC");
  CronExpression nightly = *CronExpression::parse("0 2 * * *");
};

TEST_F(Fixture, SkipRunsNothingButCountsWhatWasMissed) {
  const auto policy = *parse_catch_up("skip");
  const auto d = decide_catch_up(nightly, tz, policy, utc(2026_y / 12 / 1, 3h), utc(2026_y / 12 / 4, 1h));
  EXPECT_FALSE(d.run);
  EXPECT_EQ(d.missed, 2u);
  ASSERT_TRUE(d.latest);  // what the scheduler records as missed
  EXPECT_EQ(*d.latest, utc(2026_y / 12 / 3, 2h));
  EXPECT_NE(d.reason.find("skipped"), std::string::npos) << d.reason;
}

TEST_F(Fixture, RunOnceRunsOnlyTheLatestMissedFire) {
  const auto policy = *parse_catch_up("run-once");
  const auto d = decide_catch_up(nightly, tz, policy, utc(2026_y / 12 / 1, 3h), utc(2026_y / 12 / 4, 5h));
  ASSERT_TRUE(d.run);
  EXPECT_EQ(*d.run, utc(2026_y / 12 / 4, 2h));
  EXPECT_EQ(d.missed, 3u);
}

TEST_F(Fixture, RunOnceWithinALimitSkipsAStaleFire) {
  const auto policy = *parse_catch_up("run-once-within 6h");
  const auto fresh = decide_catch_up(nightly, tz, policy, utc(2026_y / 12 / 1, 3h), utc(2026_y / 12 / 2, 7h));
  EXPECT_TRUE(fresh.run) << fresh.reason;
  const auto stale = decide_catch_up(nightly, tz, policy, utc(2026_y / 12 / 1, 3h), utc(2026_y / 12 / 2, 9h));
  EXPECT_FALSE(stale.run);
  EXPECT_NE(stale.reason.find("older than the catch-up limit 6h"), std::string::npos) << stale.reason;
}

TEST_F(Fixture, NothingMissed) {
  const auto d =
      decide_catch_up(nightly, tz, *parse_catch_up("run-once"), utc(2026_y / 12 / 1, 3h), utc(2026_y / 12 / 2, 1h));
  EXPECT_FALSE(d.run);
  EXPECT_FALSE(d.latest);
  EXPECT_EQ(d.missed, 0u);
}

TEST(CatchUpPolicy, ParsesAndPrintsBack) {
  for (const char* text : {"skip", "run-once", "run-once-within 6h"}) {
    const auto policy = parse_catch_up(text);
    ASSERT_TRUE(policy.ok()) << text;
    EXPECT_EQ(to_string(*policy), text);
  }
  EXPECT_FALSE(parse_catch_up("sometimes").ok());
  EXPECT_FALSE(parse_catch_up("run-once-within 0s").ok());
  EXPECT_FALSE(parse_catch_up("run-once-within soon").ok());
}

TEST(Jitter, StableAndWithinItsBound) {
  const Instant fire = utc(2026_y / 12 / 2, 2h);
  const Instant a = with_jitter(fire, 900s, 7);
  EXPECT_EQ(a, with_jitter(fire, 900s, 7)) << "a restarted daemon computes the same instant";
  EXPECT_GE(a, fire);
  EXPECT_LT(a, fire + 900s);
  EXPECT_EQ(with_jitter(fire, 0s, 7), fire);
  int differ = 0;
  for (std::uint64_t id = 1; id <= 20; ++id) differ += with_jitter(fire, 900s, id) != a ? 1 : 0;
  EXPECT_GE(differ, 15) << "schedules sharing a cron line are spread out";
}

}  // namespace
}  // namespace kiln::schedule
