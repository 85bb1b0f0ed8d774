#include "lifecycle/policy.hpp"

#include <gtest/gtest.h>

namespace kiln::lifecycle {
namespace {

TEST(LifecyclePolicy, TheShippedFileIsTheDefault) {
  const auto loaded = load_policy(KILN_DEFAULT_POLICY);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const LifecyclePolicy defaults = LifecyclePolicy::defaults();
  EXPECT_EQ(loaded->quarantine_on, defaults.quarantine_on);
  EXPECT_EQ(loaded->retests(), defaults.retests());
  EXPECT_EQ(loaded->healthy_after_clean_passes, defaults.healthy_after_clean_passes);
  EXPECT_EQ(loaded->rma_after_failed_retests, defaults.rma_after_failed_retests);
  EXPECT_EQ(loaded->breaker_max_share, defaults.breaker_max_share);
  EXPECT_EQ(loaded->breaker_min_chips, defaults.breaker_min_chips);
}

TEST(LifecyclePolicy, EveryMistakeIsReportedAtItsLine) {
  const auto policy = parse_policy(
      "quarantine_on: [sdc, gremlins]\n"
      "healthy_after_clean_passes: 0\n"
      "circuit_breaker: {max_share: 2}\n"
      "colour: red\n",
      "policy.yaml");
  ASSERT_FALSE(policy.ok());
  const std::string& m = policy.error().message;
  EXPECT_NE(m.find("policy.yaml:1:"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown failure class \"gremlins\""), std::string::npos) << m;
  EXPECT_NE(m.find("policy.yaml:2:"), std::string::npos) << m;
  EXPECT_NE(m.find("max_share"), std::string::npos) << m;
  EXPECT_NE(m.find("colour"), std::string::npos) << m;
}

TEST(LifecyclePolicy, AnRmaThresholdThatCanNeverBeReachedIsRefused) {
  const auto policy = parse_policy(
      "quarantine_on: [sdc]\nretest: {same_seed: 1, new_seeds: 0}\n"
      "rma_after_failed_retests: 2\n",
      "p.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_NE(policy.error().message.find("could never reach rma"), std::string::npos) << policy.error().message;
}

TEST(LifecyclePolicy, QuarantineClassesAreRequired) {
  EXPECT_FALSE(parse_policy("suspect_on_marginal: true\n", "p.yaml").ok());
}

}  // namespace
}  // namespace kiln::lifecycle
