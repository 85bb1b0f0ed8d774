#include "schedule/cron_expression.hpp"

#include <gtest/gtest.h>

namespace kiln::schedule {
namespace {

CronExpression parse_ok(std::string_view text) {
  auto cron = CronExpression::parse(text);
  EXPECT_TRUE(cron.ok()) << (cron.ok() ? "" : cron.error().message);
  return cron.ok() ? *cron : CronExpression{};
}

TEST(CronExpression, ListsRangesStepsAndNames) {
  const CronExpression cron = parse_ok("0,30 2-4/2 * JAN-mar mon-fri");
  EXPECT_TRUE(cron.minute(0));
  EXPECT_TRUE(cron.minute(30));
  EXPECT_FALSE(cron.minute(15));
  EXPECT_TRUE(cron.hour(2));
  EXPECT_FALSE(cron.hour(3));
  EXPECT_TRUE(cron.hour(4));
  EXPECT_TRUE(cron.month(3));
  EXPECT_FALSE(cron.month(4));
  EXPECT_TRUE(cron.day(1, 5, 1));   // a Monday in January
  EXPECT_FALSE(cron.day(1, 4, 0));  // a Sunday
}

TEST(CronExpression, BothDayFieldsRestrictedMatchEither) {
  const CronExpression cron = parse_ok("0 0 1 * 0");  // the 1st, and every Sunday
  EXPECT_TRUE(cron.day(5, 1, 3));
  EXPECT_TRUE(cron.day(5, 10, 0));
  EXPECT_FALSE(cron.day(5, 10, 3));
}

TEST(CronExpression, SevenIsSundayAndStepsRunFromTheStart) {
  EXPECT_TRUE(parse_ok("0 0 * * 7").day(1, 4, 0));
  const CronExpression every_quarter = parse_ok("*/15 * * * *");
  EXPECT_TRUE(every_quarter.minute(45));
  EXPECT_FALSE(every_quarter.minute(50));
  EXPECT_TRUE(parse_ok("5/20 * * * *").minute(45));
}

TEST(CronExpression, Macros) {
  const CronExpression daily = parse_ok("@daily");
  EXPECT_TRUE(daily.hour(0));
  EXPECT_FALSE(daily.hour(1));
  EXPECT_TRUE(parse_ok("@weekly").day(6, 7, 0));
  EXPECT_FALSE(parse_ok("@weekly").day(6, 8, 1));
  EXPECT_EQ(parse_ok("@daily").text(), "@daily");
}

TEST(CronExpression, MistakesNameTheFieldAndColumn) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"0 25 * * *", "column 3: hour field \"25\": out of range 0–23"},
      {"0 2 * * * *", "6 field(s); expected 5"},
      {"0 2 *", "3 field(s); expected 5"},
      {"*/0 * * * *", "column 1: minute field \"*/0\": step must be a whole number from 1 to 60"},
      {"0 5-2 * * *", "hour field \"5-2\": range runs backwards"},
      {"0 0 * foo *", "column 7: month field \"foo\": not a number or name"},
      {"0 0 1,,2 * *", "day of month field \"1,,2\": empty list item"},
      {"0 0 30 2 *", "no month selected has the day(s) selected"},
      {"@sometimes", "unknown macro"},
      {"", "0 field(s); expected 5"},
  };
  for (const Case& c : cases) {
    const auto cron = CronExpression::parse(c.text);
    ASSERT_FALSE(cron.ok()) << c.text;
    EXPECT_NE(cron.error().message.find(c.expected), std::string::npos) << c.text << ": " << cron.error().message;
  }
}

TEST(CronExpression, LeapDayIsPossible) { EXPECT_TRUE(CronExpression::parse("0 0 29 2 *").ok()); }

}  // namespace
}  // namespace kiln::schedule
