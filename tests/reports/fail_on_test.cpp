#include "reports/fail_on.hpp"

#include <gtest/gtest.h>

namespace kiln::reports {
namespace {

const std::string kReport = R"({"chips": [
  {"serial": "A", "verdict": "pass"}, {"serial": "B", "verdict": "marginal"},
  {"serial": "C", "verdict": "inconclusive"}, {"serial": "D", "verdict": "error"},
  {"serial": "E", "verdict": "fail"}]})";

using Serials = std::vector<std::string>;

TEST(FailOn, ALevelCountsItsVerdictAndEveryWorseOne) {
  EXPECT_EQ(chips_meeting(kReport, FailOn::fail).value(), (Serials{"E"}));
  EXPECT_EQ(chips_meeting(kReport, FailOn::error).value(), (Serials{"D", "E"}));
  EXPECT_EQ(chips_meeting(kReport, FailOn::inconclusive).value(), (Serials{"C", "D", "E"}));
  EXPECT_EQ(chips_meeting(kReport, FailOn::marginal).value(), (Serials{"B", "C", "D", "E"}));
  EXPECT_TRUE(chips_meeting(kReport, FailOn::never).value().empty());
}

TEST(FailOn, TheDefaultFailsALostAgentNotAnUnjudgedChip) {
  EXPECT_EQ(kDefaultFailOn, FailOn::error);
  EXPECT_NE(kExitChipsMetFailOn, 0);
  EXPECT_NE(kExitChipsMetFailOn, 1);
  EXPECT_NE(kExitChipsMetFailOn, 3);  // an unknown run or serial
}

TEST(FailOn, NamesRoundTripAndUnknownOnesAreRefused) {
  for (const auto& name : fail_on_names()) {
    const auto level = parse_fail_on(name);
    ASSERT_TRUE(level) << name;
    EXPECT_EQ(to_string(*level), name);
  }
  EXPECT_FALSE(parse_fail_on("failed"));
  EXPECT_FALSE(parse_fail_on(""));
}

TEST(FailOn, TheMessageNamesTheChipsAndTheirVerdicts) {
  EXPECT_EQ(fail_on_message(kReport, FailOn::error).value(),
            "kiln: 2 chips at or above --fail-on error: D (error), E (fail)");
  EXPECT_EQ(fail_on_message(kReport, FailOn::never).value(), "");
}

TEST(FailOn, AReportThatIsNotOneIsAnErrorNotAPass) {
  EXPECT_FALSE(chips_meeting("not json", FailOn::fail));
  EXPECT_FALSE(chips_meeting(R"({"run": {}})", FailOn::fail));
  EXPECT_FALSE(chips_meeting(R"({"chips": [{"serial": "X", "verdict": "great"}]})", FailOn::never));
}

}  // namespace
}  // namespace kiln::reports
