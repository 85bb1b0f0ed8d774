// Top-level keys of a plan: plan, description, seed, targets, sample_hz,
// steps, repeat — their types, ranges and defaults.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

using testing::has_error;
using testing::load;
using testing::only_error;

TEST(LoaderTopLevel, MinimalPlanGetsEveryDefault) {
  const auto result = load("plan: t\nsteps:\n  - {name: a, pattern: idle, duration: 1s}\n");
  ASSERT_TRUE(result.plan) << testing::all_messages(result);
  EXPECT_TRUE(result.diagnostics.empty());
  EXPECT_EQ(result.plan->name, "t");
  EXPECT_EQ(result.plan->description, "");
  EXPECT_FALSE(result.plan->seed);  // the daemon draws one
  EXPECT_TRUE(result.plan->targets.all_racks);
  EXPECT_FALSE(result.plan->targets.sku);
  EXPECT_DOUBLE_EQ(result.plan->sample_hz, 10);
  EXPECT_EQ(result.plan->repeat, 1u);
  EXPECT_EQ(result.plan->source_path, "p.yaml");
}

TEST(LoaderTopLevel, EveryKeyRead) {
  const auto result = load(R"(plan: night_2
description: "overnight: all racks"
seed: 18446744073
targets: {racks: [r01, r02], sku: trn2-sim}
sample_hz: 0.5
steps:
  - {name: a, pattern: idle, duration: 1s}
repeat: 3
)");
  ASSERT_TRUE(result.plan) << testing::all_messages(result);
  EXPECT_EQ(result.plan->name, "night_2");
  EXPECT_EQ(result.plan->description, "overnight: all racks");
  EXPECT_EQ(result.plan->seed, 18446744073u);
  EXPECT_FALSE(result.plan->targets.all_racks);
  EXPECT_EQ(result.plan->targets.racks, (std::vector<std::string>{"r01", "r02"}));
  EXPECT_EQ(result.plan->targets.sku, "trn2-sim");
  EXPECT_DOUBLE_EQ(result.plan->sample_hz, 0.5);
  EXPECT_EQ(result.plan->repeat, 3u);
}

TEST(LoaderTopLevel, UnknownTopLevelKeyListsTheKnownOnes) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: idle, duration: 1s}
sample_rate: 10
)");
  EXPECT_TRUE(only_error(result,
                         "p.yaml:4:1: unknown key 'sample_rate' (expected one of: plan, description, seed, "
                         "targets, sample_hz, steps, repeat)"));
}

TEST(LoaderTopLevel, MissingRequiredKeys) {
  const auto result = load("description: nothing else\n");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result, "p.yaml:1:1: missing required key 'plan'"));
  EXPECT_TRUE(has_error(result, "p.yaml:1:1: missing required key 'steps'"));
  EXPECT_EQ(result.diagnostics.size(), 2u);
}

TEST(LoaderTopLevel, TopLevelMustBeAMapping) {
  EXPECT_TRUE(only_error(load("- plan: t\n"), "p.yaml:1:1: expected a mapping, got a list"));
}

TEST(LoaderTopLevel, PlanNameIsRestricted) {
  EXPECT_TRUE(only_error(load("plan: My Plan\nsteps:\n  - {name: a, pattern: idle, duration: 1s}\n"),
                         "p.yaml:1:7: plan: 'My Plan' is not a valid plan name (1 to 64 of a-z, 0-9, '_' and '-')"));
}

TEST(LoaderTopLevel, SeedIsANonNegativeInteger) {
  const char* tail = "\nsteps:\n  - {name: a, pattern: idle, duration: 1s}\n";
  EXPECT_TRUE(only_error(load(std::string("plan: t\nseed: -1") + tail),
                         "p.yaml:2:7: seed: must be a non-negative integer, got -1"));
  EXPECT_TRUE(
      only_error(load(std::string("plan: t\nseed: 1.5") + tail), "p.yaml:2:7: seed: expected an integer, got '1.5'"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\nseed: \"7\"") + tail),
                         "p.yaml:2:7: seed: expected an integer, got \"7\" (quoted, so a string)"));
}

TEST(LoaderTopLevel, SampleHzAndRepeatRanges) {
  const char* steps = "steps:\n  - {name: a, pattern: idle, duration: 1s}\n";
  EXPECT_TRUE(only_error(load(std::string("plan: t\nsample_hz: 0.05\n") + steps),
                         "p.yaml:2:12: sample_hz: 0.05 is out of range [0.1, 1000]"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\nsample_hz: fast\n") + steps),
                         "p.yaml:2:12: sample_hz: expected a number, got 'fast'"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\nrepeat: 0\n") + steps),
                         "p.yaml:2:9: repeat: 0 is out of range [1, 10000]"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\nrepeat: 10001\n") + steps),
                         "p.yaml:2:9: repeat: 10001 is out of range [1, 10000]"));
  EXPECT_TRUE(load(std::string("plan: t\nsample_hz: 1000\nrepeat: 10000\n") + steps).plan);
}

TEST(LoaderTopLevel, TargetsRacks) {
  const char* steps = "steps:\n  - {name: a, pattern: idle, duration: 1s}\n";
  EXPECT_TRUE(load(std::string("plan: t\ntargets: {racks: all}\n") + steps).plan->targets.all_racks);
  EXPECT_TRUE(only_error(load(std::string("plan: t\ntargets: {racks: r01}\n") + steps),
                         "p.yaml:2:18: targets.racks: expected all or a list of rack ids such as [r01, r02], got "
                         "'r01'"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\ntargets: {racks: []}\n") + steps),
                         "p.yaml:2:18: targets.racks: the list is empty (use `racks: all` for every rack)"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\ntargets: {racks: [r01, r01]}\n") + steps),
                         "p.yaml:2:24: targets.racks[1]: rack 'r01' is listed twice"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\ntargets: {rack: [r01]}\n") + steps),
                         "p.yaml:2:11: targets: unknown key 'rack' (expected one of: racks, sku)"));
  EXPECT_TRUE(only_error(load(std::string("plan: t\ntargets: all\n") + steps),
                         "p.yaml:2:10: targets: expected a mapping, got a scalar"));
}

TEST(LoaderTopLevel, ThousandsOfErrorsAreCappedWithACount) {
  std::string text = "plan: t\nsteps:\n  - {name: a, pattern: idle, duration: 1s}\n";
  for (int i = 0; i < 1000; ++i) text += fmt::format("key{}: 1\n", i);
  const auto result = load(text);
  ASSERT_FALSE(result.plan);
  ASSERT_EQ(result.diagnostics.size(), 101u);
  EXPECT_EQ(result.diagnostics[0].to_string(),
            "p.yaml:4:1: unknown key 'key0' (expected one of: plan, description, "
            "seed, targets, sample_hz, steps, repeat)");
  EXPECT_EQ(result.diagnostics[100].to_string(), "p.yaml: 900 more errors not shown");
}

}  // namespace
}  // namespace kiln::plan
