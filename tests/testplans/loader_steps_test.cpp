// Steps, parallel groups and params: what a user gets told, and where.

#include <gtest/gtest.h>

#include "tests/testplans/plan_test_support.hpp"

namespace kiln::plan {
namespace {

using testing::has_error;
using testing::load;
using testing::only_error;

TEST(LoaderSteps, UnknownStepKeyListsTheKnownOnes) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: idle
    duration: 1s
    durration: 2s
)");
  EXPECT_TRUE(only_error(result,
                         "p.yaml:6:5: steps[0]: unknown key 'durration' (expected one of: name, pattern, "
                         "duration, params, limits)"));
}

TEST(LoaderSteps, MissingStepKeysAreReportedAtTheStep) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: idle
  - {pattern: idle, duration: 1s}
)");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result, "p.yaml:3:5: steps[0]: missing required key 'duration'"));
  EXPECT_TRUE(has_error(result, "p.yaml:5:5: steps[1]: missing required key 'name'"));
  EXPECT_EQ(result.diagnostics.size(), 2u) << testing::all_messages(result);
}

TEST(LoaderSteps, UnknownPatternListsTheKnownOnes) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: gem
    duration: 1s
    params: {m: 1}
    limits: {tflops: {min: 1}}
)");
  // Its params and limit metrics cannot be checked, so they are not blamed.
  EXPECT_TRUE(only_error(result,
                         "p.yaml:4:14: steps[0].pattern: unknown pattern 'gem' (known: gemm, hbm, "
                         "collective, power, shmoo, idle)"));
}

TEST(LoaderSteps, UnknownParamListsThePatternsParams) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: gemm
    duration: 1s
    params: {dtype: bf16, mm: 4096}
)");
  EXPECT_TRUE(only_error(result,
                         "p.yaml:6:27: steps[0].params: unknown param 'mm' for pattern 'gemm' (known: dtype, "
                         "m, n, k, verify, data)"));
}

TEST(LoaderSteps, IdleTakesNoParams) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: idle
    duration: 1s
    params: {fraction: 1}
)");
  EXPECT_TRUE(only_error(result,
                         "p.yaml:6:14: steps[0].params: unknown param 'fraction': pattern 'idle' takes no "
                         "params"));
}

TEST(LoaderSteps, WrongTypeForAnIntegerParam) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: gemm
    duration: 1s
    params:
      m: big
      n: 4096.5
      k: 0
)");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result, "p.yaml:7:10: steps[0].params.m: expected an integer, got 'big'"));
  EXPECT_TRUE(has_error(result, "p.yaml:8:10: steps[0].params.n: expected an integer, got '4096.5'"));
  EXPECT_TRUE(has_error(result, "p.yaml:9:10: steps[0].params.k: 0 is out of range [1, 65536]"));
  EXPECT_EQ(result.diagnostics.size(), 3u) << testing::all_messages(result);
}

// yaml-cpp would read `yes` as true; here it is just a word, and not a choice.
TEST(LoaderSteps, BooleanishWordIsNotAChoice) {
  const auto result = load(R"(plan: t
steps:
  - name: a
    pattern: gemm
    duration: 1s
    params: {verify: yes}
)");
  EXPECT_TRUE(only_error(result,
                         "p.yaml:6:22: steps[0].params.verify: expected one of abft, golden, vote, abft+golden, none, "
                         "got 'yes'"));
}

TEST(LoaderSteps, BooleanParamAcceptsOnlyTrueOrFalse) {
  for (const std::string word : {"yes", "no", "on", "off", "True", "1"}) {
    SCOPED_TRACE(word);
    const auto result = load(
        "plan: t\nsteps:\n  - name: a\n    pattern: collective\n    duration: 1s\n"
        "    params: {check: " +
        word + "}\n");
    EXPECT_TRUE(only_error(result, "p.yaml:6:21: steps[0].params.check: expected true or false, got '" + word + "'"));
  }
  EXPECT_TRUE(only_error(load("plan: t\nsteps:\n  - name: a\n    pattern: collective\n    duration: 1s\n"
                              "    params: {check: \"true\"}\n"),
                         "p.yaml:6:21: steps[0].params.check: expected true or false, got \"true\" (quoted, so a "
                         "string)"));
  const auto ok = load(R"(plan: t
steps:
  - {name: a, pattern: collective, duration: 1s, params: {check: false}}
)");
  ASSERT_TRUE(ok.plan) << testing::all_messages(ok);
  EXPECT_EQ(ok.plan->phases[0].steps[0].params.at("check"), "false");
}

TEST(LoaderSteps, NumberAndListParams) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: hbm, duration: 1s, params: {fraction: 1.5}}
  - {name: b, pattern: collective, duration: 1s, params: {sizes: 64MiB}}
  - {name: c, pattern: collective, duration: 1s, params: {sizes: [1MiB, 0, 3 parsecs]}}
  - {name: d, pattern: collective, duration: 1s, params: {sizes: []}}
  - {name: e, pattern: shmoo, duration: 1s, params: {voltage_mv: [700, 2000]}}
)");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result, "p.yaml:3:62: steps[0].params.fraction: 1.5 is out of range [0.01, 1]"));
  EXPECT_TRUE(has_error(result,
                        "p.yaml:4:66: steps[1].params.sizes: expected a list such as [1MiB, 64MiB], got a "
                        "scalar"));
  EXPECT_TRUE(has_error(result, "p.yaml:5:73: steps[2].params.sizes[1]: 0B is out of range [1B, 64GiB]"));
  EXPECT_TRUE(has_error(result,
                        "p.yaml:5:76: steps[2].params.sizes[2]: invalid size '3 parsecs': unknown unit "
                        "' parsecs' (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"));
  EXPECT_TRUE(has_error(result, "p.yaml:6:66: steps[3].params.sizes: the list is empty"));
  EXPECT_TRUE(has_error(result, "p.yaml:7:72: steps[4].params.voltage_mv[1]: 2000 is out of range [300, 1500]"));
  EXPECT_EQ(result.diagnostics.size(), 6u) << testing::all_messages(result);
}

TEST(LoaderSteps, EffectiveParamsAreDefaultsOverlaidWithGivenValuesInCanonicalText) {
  const auto result = load(R"(plan: t
steps:
  - name: c
    pattern: collective
    duration: 1s
    params: {sizes: [4KiB, 1.5MiB, 1000000, 2GB], op: alltoall}
  - name: h
    pattern: hbm
    duration: 1s
    params: {fraction: 0.50}
  - name: p
    pattern: power
    duration: 1s
    params: {target_w: 7.5e2}
  - name: s
    pattern: shmoo
    duration: 1s
    params: {voltage_mv: [700.0, 725.5], m: 01024}
)");
  ASSERT_TRUE(result.plan) << testing::all_messages(result);
  const auto& phases = result.plan->phases;
  const Step& c = phases[0].steps[0];
  EXPECT_EQ(c.params, (std::map<std::string, std::string>{
                          {"op", "alltoall"}, {"sizes", "4096,1572864,1000000,2000000000"}, {"check", "true"}}));
  EXPECT_EQ(c.params_given, (std::vector<std::string>{"sizes", "op"}));
  EXPECT_EQ(phases[1].steps[0].params.at("fraction"), "0.5");
  EXPECT_EQ(phases[1].steps[0].params.at("test"), "moving_inversions");
  EXPECT_EQ(phases[2].steps[0].params.at("target_w"), "750");
  EXPECT_EQ(phases[2].steps[0].params.at("pulse_hz"), "0");
  EXPECT_EQ(phases[3].steps[0].params.at("voltage_mv"), "700,725.5");
  EXPECT_EQ(phases[3].steps[0].params.at("clock_mhz"), "1200,1600,2000,2400,2800");
  EXPECT_EQ(phases[3].steps[0].params.at("m"), "1024");
  EXPECT_EQ(phases[3].steps[0].params.at("n"), "2048");
}

// Size and duration params: no built-in pattern has a single one yet, but
// plugins registered beside them may.
TEST(LoaderSteps, SizeAndDurationParamsAreStoredAsBytesAndSeconds) {
  PatternRegistry registry;
  PatternSpec soak;
  soak.name = "soak";
  soak.help = "test pattern";
  ParamSpec block{"block", ParamType::size, "4096", {}, 512, 1 << 30, "block size"};
  ParamSpec dwell{"dwell", ParamType::duration, "1", {}, 0.001, 86400, "time per block"};
  soak.params = {block, dwell};
  registry.add(soak);

  const auto ok = load_plan(R"(plan: t
steps:
  - {name: a, pattern: soak, duration: 1m, params: {block: 64MiB, dwell: 250ms}}
  - {name: b, pattern: soak, duration: 1m, params: {dwell: 1.5h}}
)",
                            "p.yaml", registry);
  ASSERT_TRUE(ok.plan) << testing::all_messages(ok);
  EXPECT_EQ(ok.plan->phases[0].steps[0].params.at("block"), "67108864");
  EXPECT_EQ(ok.plan->phases[0].steps[0].params.at("dwell"), "0.25");
  EXPECT_EQ(ok.plan->phases[1].steps[0].params.at("block"), "4096");
  EXPECT_EQ(ok.plan->phases[1].steps[0].params.at("dwell"), "5400");

  const auto bad = load_plan(R"(plan: t
steps:
  - {name: a, pattern: soak, duration: 1m, params: {block: 100B, dwell: 2d}}
)",
                             "p.yaml", registry);
  EXPECT_TRUE(has_error(bad, "p.yaml:3:60: steps[0].params.block: 100B is out of range [512B, 1GiB]"));
  EXPECT_TRUE(has_error(bad, "p.yaml:3:73: steps[0].params.dwell: 172800s is out of range [0.001s, 86400s]"));
  EXPECT_EQ(bad.diagnostics.size(), 2u) << testing::all_messages(bad);
}

TEST(LoaderSteps, BadDurations) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: idle, duration: 5}
  - {name: b, pattern: idle, duration: 0s}
  - {name: c, pattern: idle, duration: 5 minutes}
  - {name: d, pattern: idle, duration: -5s}
)");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result,
                        "p.yaml:3:40: steps[0].duration: invalid duration '5': missing unit (ms, s, m, h or "
                        "d)"));
  EXPECT_TRUE(has_error(result, "p.yaml:4:40: steps[1].duration: must be longer than 0s"));
  EXPECT_TRUE(has_error(result,
                        "p.yaml:5:40: steps[2].duration: invalid duration '5 minutes': unknown unit "
                        "' minutes' (ms, s, m, h or d)"));
  EXPECT_TRUE(has_error(result,
                        "p.yaml:6:40: steps[3].duration: invalid duration '-5s': expected a number "
                        "followed by a unit"));
  EXPECT_EQ(result.diagnostics.size(), 4u) << testing::all_messages(result);
}

TEST(LoaderSteps, DuplicateStepNameNamesTheFirstLine) {
  const auto result = load(R"(plan: t
steps:
  - {name: warm, pattern: idle, duration: 1s}
  - parallel:
      - {name: hot, pattern: gemm, duration: 1s}
      - {name: warm, pattern: hbm, duration: 1s}
  - {name: hot, pattern: idle, duration: 1s}
)");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result,
                        "p.yaml:6:16: steps[1].parallel[1].name: duplicate step name 'warm' (first used at "
                        "line 3)"));
  EXPECT_TRUE(has_error(result, "p.yaml:7:12: steps[2].name: duplicate step name 'hot' (first used at line 5)"));
  EXPECT_EQ(result.diagnostics.size(), 2u) << testing::all_messages(result);
}

TEST(LoaderSteps, StepNameIsRestricted) {
  EXPECT_TRUE(only_error(load("plan: t\nsteps:\n  - {name: GEMM bf16, pattern: idle, duration: 1s}\n"),
                         "p.yaml:3:12: steps[0].name: 'GEMM bf16' is not a valid step name (1 to 64 of a-z, 0-9, "
                         "'_' and '-')"));
}

TEST(LoaderSteps, ParallelGroupsDoNotNest) {
  const auto result = load(R"(plan: t
steps:
  - parallel:
      - {name: a, pattern: idle, duration: 1s}
      - parallel:
          - {name: b, pattern: idle, duration: 1s}
          - {name: c, pattern: idle, duration: 1s}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:5:9: steps[0].parallel[1]: parallel groups cannot be nested"));
}

TEST(LoaderSteps, ParallelGroupNeedsTwoStepsAndNothingElse) {
  const auto result = load(R"(plan: t
steps:
  - parallel:
      - {name: a, pattern: idle, duration: 1s}
  - name: g
    parallel: [{name: b, pattern: idle, duration: 1s}, {name: c, pattern: idle, duration: 1s}]
  - parallel: {name: d}
)");
  ASSERT_FALSE(result.plan);
  EXPECT_TRUE(has_error(result, "p.yaml:4:7: steps[0].parallel: a parallel group needs at least 2 steps, got 1"));
  EXPECT_TRUE(has_error(result, "p.yaml:5:5: steps[1]: unknown key 'name' (expected one of: parallel)"));
  EXPECT_TRUE(has_error(result, "p.yaml:7:15: steps[2].parallel: expected a list of steps, got a mapping"));
  EXPECT_EQ(result.diagnostics.size(), 3u) << testing::all_messages(result);
}

TEST(LoaderSteps, StepsMustBeANonEmptyListOfMappings) {
  EXPECT_TRUE(only_error(load("plan: t\nsteps: []\n"), "p.yaml:2:8: steps: the plan has no steps"));
  EXPECT_TRUE(only_error(load("plan: t\nsteps: {name: a}\n"),
                         "p.yaml:2:8: steps: expected a list of steps, got a "
                         "mapping"));
  EXPECT_TRUE(only_error(load("plan: t\nsteps: [gemm]\n"), "p.yaml:2:9: steps[0]: expected a mapping, got a scalar"));
}

// A user fixing a plan wants every mistake at once, in file order.
TEST(LoaderSteps, SeveralErrorsInOneFileAreAllReportedInFileOrder) {
  const auto result = load(R"(plan: t
sample_hz: 0
steps:
  - name: a
    pattern: gemm
    duration: 5
    params: {dtype: bf17, m: big}
    limits: {tflops: {min: 2, max: 1}, tflopz: {max: 1}}
  - name: a
    pattern: hbn
    duration: 1m
colour: blue
)");
  ASSERT_FALSE(result.plan);
  const std::vector<std::string> expected = {
      "p.yaml:2:12: sample_hz: 0 is out of range [0.1, 1000]",
      "p.yaml:6:15: steps[0].duration: invalid duration '5': missing unit (ms, s, m, h or d)",
      "p.yaml:7:21: steps[0].params.dtype: expected one of fp32, bf16, fp16, fp8, got 'bf17'",
      "p.yaml:7:30: steps[0].params.m: expected an integer, got 'big'",
      "p.yaml:8:22: steps[0].limits.tflops: min (2) is greater than max (1)",
      "p.yaml:8:40: steps[0].limits: unknown metric 'tflopz' for pattern 'gemm' (known: tflops, sdc_errors, "
      "temperature_c, hbm_temperature_c, power_w, clock_mhz, voltage_mv, utilization, throttled, hbm_ce, hbm_ue, "
      "link_crc_errors, throttle_fraction, link_down)",
      "p.yaml:9:11: steps[1].name: duplicate step name 'a' (first used at line 4)",
      "p.yaml:10:14: steps[1].pattern: unknown pattern 'hbn' (known: gemm, hbm, collective, power, shmoo, idle)",
      "p.yaml:12:1: unknown key 'colour' (expected one of: plan, description, seed, targets, sample_hz, steps, "
      "repeat)",
  };
  std::vector<std::string> got;
  for (const auto& d : result.diagnostics) got.push_back(d.to_string());
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace kiln::plan
