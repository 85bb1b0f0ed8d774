#include "agents/step_runner.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "agent_test_util.hpp"
#include "agents/chip_phase.hpp"
#include "fake_chip.hpp"

namespace kiln::agent {
namespace {

using testing::drain;
using testing::FakeChip;
using testing::gemm_params;
using testing::phase;
using testing::step;
using testing::value_of;

ChipPhaseOptions unpaced() {
  ChipPhaseOptions o;
  o.time_scale = 0;  // as fast as the chip goes
  return o;
}

struct Harness {
  FakeChip chip{"F-00"};
  ChipRunState state;
  Outbox outbox{"r-test", 1};

  testing::Drained run(const kiln::v1::PhaseDispatch& d, const ChipPhaseOptions& o = unpaced()) {
    run_chip_phase(chip, d, state, o, outbox, std::stop_token{});
    return drain(outbox);
  }
};

TEST(StepRunnerTest, IdleStepSamplesEveryTickAndSummarizes) {
  Harness h;
  h.chip.after_slice = [](FakeChip& c) { c.telemetry_.temperature_c = 40.0 + c.idle_calls; };
  const auto out = h.run(phase(1, {step(0, "idle", 1.0)}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_TRUE(r.completed());
  EXPECT_FALSE(r.unsupported());
  EXPECT_EQ(r.note(), "");
  EXPECT_EQ(r.serial(), "F-00");
  EXPECT_EQ(r.run_id(), 1u);
  EXPECT_NEAR(r.ran_s(), 1.0, 1e-9);
  EXPECT_EQ(h.chip.idle_calls, 10);
  EXPECT_EQ(h.chip.gemm_calls, 0);

  ASSERT_EQ(out.samples.size(), 10u);
  EXPECT_NEAR(out.samples.front().t_s(), 0.1, 1e-9);
  EXPECT_NEAR(out.samples.back().t_s(), 1.0, 1e-9);
  EXPECT_GT(out.samples.front().wall_unix_ms(), 0);
  ASSERT_TRUE(value_of(out.samples[2], "temperature_c").has_value());
  EXPECT_DOUBLE_EQ(*value_of(out.samples[2], "temperature_c"), 43);

  const auto& t = r.metrics().at("temperature_c");
  EXPECT_DOUBLE_EQ(t.min(), 41);
  EXPECT_DOUBLE_EQ(t.max(), 50);
  EXPECT_DOUBLE_EQ(t.avg(), 45.5);
  EXPECT_EQ(t.count(), 10u);
  // An idle step does no GEMMs: no throughput, no verification counter.
  EXPECT_EQ(r.metrics().count("tflops"), 0u);
  EXPECT_EQ(r.metrics().count("sdc_errors"), 0u);
  EXPECT_FALSE(value_of(out.samples[0], "tflops").has_value());
  EXPECT_DOUBLE_EQ(r.metrics().at("throttle_fraction").max(), 0);
}

TEST(StepRunnerTest, GemmReportsThroughputAndZeroSdcOnACleanChip) {
  Harness h;
  const auto out = h.run(phase(1, {step(0, "gemm", 0.5, gemm_params())}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_TRUE(r.completed()) << r.note();
  EXPECT_EQ(h.chip.gemm_calls, 5);
  EXPECT_NEAR(r.metrics().at("tflops").avg(), 80, 1e-9);
  EXPECT_EQ(r.metrics().at("sdc_errors").max(), 0);
  EXPECT_EQ(r.detections_size(), 0);
  ASSERT_EQ(out.samples.size(), 5u);
  ASSERT_TRUE(value_of(out.samples[0], "sdc_errors").has_value());
  EXPECT_NEAR(*value_of(out.samples[0], "tflops"), 80, 1e-9);
}

TEST(StepRunnerTest, SdcIsDetectedWithLocationCountAndConditions) {
  Harness h;
  h.chip.flips = {{1, 3, 5, 30}};
  h.chip.telemetry_.temperature_c = 71.3;
  h.chip.telemetry_.clock_mhz = 2400;
  h.chip.after_slice = [](FakeChip& c) {
    if (c.gemm_calls > 1) c.telemetry_.temperature_c = 80;  // later slices are hotter
  };
  const auto out = h.run(phase(1, {step(0, "gemm", 1.0, gemm_params())}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_TRUE(r.completed()) << r.note();
  ASSERT_EQ(r.detections_size(), 1);
  const auto& d = r.detections(0);
  EXPECT_EQ(d.cls(), kiln::v1::FAILURE_SDC);
  EXPECT_EQ(d.metric(), "sdc_errors");
  EXPECT_EQ(d.count(), 10u);
  EXPECT_EQ(d.location().at("core"), 1);
  EXPECT_EQ(d.location().at("pe_row"), 3);
  EXPECT_EQ(d.location().at("pe_col"), 5);
  EXPECT_EQ(d.location().at("bit"), 30);
  EXPECT_NEAR(d.first_t_s(), 0.1, 1e-9);
  EXPECT_NEAR(d.last_t_s(), 1.0, 1e-9);
  EXPECT_GT(d.first_wall_unix_ms(), 0);
  EXPECT_GE(d.last_wall_unix_ms(), d.first_wall_unix_ms());
  // Conditions are those of the first occurrence.
  EXPECT_DOUBLE_EQ(d.conditions().temperature_c(), 71.3);
  EXPECT_DOUBLE_EQ(d.conditions().clock_mhz(), 2400);
  EXPECT_DOUBLE_EQ(d.conditions().power_w(), 300);
  EXPECT_DOUBLE_EQ(d.conditions().voltage_mv(), 750);
  // The counter is cumulative; its summary starts at the step's start value.
  EXPECT_DOUBLE_EQ(r.metrics().at("sdc_errors").min(), 0);
  EXPECT_DOUBLE_EQ(r.metrics().at("sdc_errors").max(), 10);
  EXPECT_DOUBLE_EQ(*value_of(out.samples.back(), "sdc_errors"), 10);
}

TEST(StepRunnerTest, SdcCountersAreCumulativeWithinARun) {
  Harness h;
  h.chip.flips = {{0, 1, 2, 30}};
  (void)h.run(phase(7, {step(0, "gemm", 0.3, gemm_params())}, {"F-00"}, 10, 0));
  const auto second = h.run(phase(7, {step(1, "gemm", 0.2, gemm_params())}, {"F-00"}, 10, 1));
  EXPECT_EQ(h.chip.runs_started, 1) << "one run, one start_run";
  ASSERT_EQ(second.results.size(), 1u);
  const auto& m = second.results[0].metrics().at("sdc_errors");
  EXPECT_DOUBLE_EQ(m.min(), 3);  // what the first step left
  EXPECT_DOUBLE_EQ(m.max(), 5);
  EXPECT_EQ(second.results[0].detections(0).count(), 2u);  // detections are per step

  const auto next_run = h.run(phase(8, {step(0, "gemm", 0.1, gemm_params())}, {"F-00"}));
  EXPECT_EQ(h.chip.runs_started, 2);
  EXPECT_EQ(h.chip.last_run_seed, 1008u);
  EXPECT_DOUBLE_EQ(next_run.results[0].metrics().at("sdc_errors").max(), 1);
}

TEST(StepRunnerTest, HangEndsTheStepEarly) {
  Harness h;
  h.chip.hang_after_calls = 3;
  const auto out = h.run(phase(1, {step(0, "gemm", 10.0, gemm_params())}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_TRUE(r.completed()) << "it ran as far as the chip let it";
  EXPECT_EQ(r.note(), "chip hung");
  EXPECT_NEAR(r.ran_s(), 0.4, 1e-9);
  ASSERT_EQ(r.detections_size(), 1);
  EXPECT_EQ(r.detections(0).cls(), kiln::v1::FAILURE_HANG);
  EXPECT_NEAR(r.detections(0).first_t_s(), 0.4, 1e-9);
  EXPECT_EQ(out.samples.size(), 4u);
}

TEST(StepRunnerTest, AbortViaStopTokenIsPrompt) {
  Harness h;
  ChipPhaseOptions paced;
  paced.time_scale = 1;  // a 100 s step would take 100 s of wall time
  const auto d = phase(1, {step(0, "gemm", 100.0, gemm_params()), step(1, "idle", 100.0)}, {"F-00"});
  std::jthread runner([&](std::stop_token stop) { run_chip_phase(h.chip, d, h.state, paced, h.outbox, stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto asked = std::chrono::steady_clock::now();
  runner.request_stop();
  runner.join();
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(200));
  const auto out = drain(h.outbox);
  ASSERT_EQ(out.results.size(), 2u);
  for (const auto& r : out.results) {
    EXPECT_FALSE(r.completed());
    EXPECT_EQ(r.note(), "aborted");
    EXPECT_GT(r.ran_s(), 0.05);
    EXPECT_LT(r.ran_s(), 5);
  }
}

TEST(StepRunnerTest, PacingFollowsTheTimeScale) {
  Harness h;
  ChipPhaseOptions paced;
  paced.time_scale = 10;  // 2 chip seconds in about 0.2 wall seconds
  const auto start = std::chrono::steady_clock::now();
  const auto out = h.run(phase(1, {step(0, "idle", 2.0)}, {"F-00"}), paced);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_TRUE(out.results.at(0).completed());
}

TEST(StepRunnerTest, UnsupportedPatternIsReportedNotRun) {
  Harness h;
  const auto out = h.run(phase(1, {step(0, "stress_ng", 5.0)}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = out.results[0];
  EXPECT_FALSE(r.completed());
  EXPECT_TRUE(r.unsupported());
  EXPECT_EQ(r.note(), "pattern stress_ng is not supported by the sim backend yet");
  EXPECT_EQ(r.ran_s(), 0);
  EXPECT_TRUE(out.samples.empty());
  EXPECT_EQ(h.chip.gemm_calls + h.chip.idle_calls, 0);
}

TEST(StepRunnerTest, UnavailableMetricsAreAbsentNotZero) {
  Harness h;
  h.chip.telemetry_.links[1].gbps.reset();
  h.chip.telemetry_.power_w.reset();
  const auto out = h.run(phase(1, {step(0, "idle", 0.3)}, {"F-00"}));
  ASSERT_EQ(out.samples.size(), 3u);
  for (const auto& s : out.samples) {
    EXPECT_FALSE(value_of(s, "hbm_temperature_c").has_value());  // the fake never reads it
    EXPECT_FALSE(value_of(s, "power_w").has_value());
    EXPECT_FALSE(value_of(s, "link1_gbps").has_value());
    EXPECT_TRUE(value_of(s, "link0_gbps").has_value());
    EXPECT_TRUE(value_of(s, "link1_up").has_value());
    EXPECT_TRUE(value_of(s, "temperature_c").has_value());
  }
  const auto& m = out.results.at(0).metrics();
  EXPECT_EQ(m.count("hbm_temperature_c"), 0u);
  EXPECT_EQ(m.count("power_w"), 0u);
  EXPECT_EQ(m.count("link1_gbps"), 0u);
  EXPECT_EQ(m.count("link0_gbps"), 1u);
}

TEST(StepRunnerTest, ThrottleFractionIsTheShareOfThrottledTicks) {
  Harness h;
  h.chip.after_slice = [](FakeChip& c) { c.telemetry_.throttled = c.idle_calls % 2 == 0; };
  const auto out = h.run(phase(1, {step(0, "idle", 1.0)}, {"F-00"}));
  const auto& f = out.results.at(0).metrics().at("throttle_fraction");
  EXPECT_DOUBLE_EQ(f.max(), 0.5);
  EXPECT_EQ(f.count(), 1u);
}

TEST(StepRunnerTest, CriticalTemperatureIsAThermalDetection) {
  Harness h;
  h.chip.after_slice = [](FakeChip& c) { c.telemetry_.temperature_c = c.idle_calls >= 3 ? 106.0 : 60.0; };
  const auto out = h.run(phase(1, {step(0, "idle", 0.5)}, {"F-00"}));
  const auto& r = out.results.at(0);
  ASSERT_EQ(r.detections_size(), 1);
  EXPECT_EQ(r.detections(0).cls(), kiln::v1::FAILURE_THERMAL);
  EXPECT_EQ(r.detections(0).detail(), "critical temperature");
  EXPECT_EQ(r.detections(0).count(), 3u);
  EXPECT_NEAR(r.detections(0).first_t_s(), 0.3, 1e-9);
  EXPECT_DOUBLE_EQ(r.detections(0).conditions().temperature_c(), 106);
}

TEST(StepRunnerTest, LinkDownAndUncorrectableErrorsAreDetections) {
  Harness h;
  h.chip.after_slice = [](FakeChip& c) {
    if (c.idle_calls == 2) c.telemetry_.links[1].up = false;
    if (c.idle_calls == 4) c.telemetry_.hbm_ue = 1;
  };
  const auto out = h.run(phase(1, {step(0, "idle", 0.6)}, {"F-00"}));
  const auto& r = out.results.at(0);
  ASSERT_EQ(r.detections_size(), 2);
  EXPECT_EQ(r.detections(0).cls(), kiln::v1::FAILURE_LINK_DOWN);
  EXPECT_EQ(r.detections(0).metric(), "link1_up");
  EXPECT_EQ(r.detections(0).location().at("link"), 1);
  EXPECT_EQ(r.detections(0).count(), 1u) << "once per going down, not per sample";
  EXPECT_EQ(r.detections(1).cls(), kiln::v1::FAILURE_MEMORY_UE);
  EXPECT_EQ(r.detections(1).count(), 1u);
  EXPECT_DOUBLE_EQ(r.metrics().at("hbm_ue").min(), 0);
  EXPECT_DOUBLE_EQ(r.metrics().at("hbm_ue").max(), 1);
  // The registry's common metric: links seen down during the step.
  EXPECT_DOUBLE_EQ(r.metrics().at("link_down").max(), 1);
  EXPECT_EQ(r.metrics().at("link_down").count(), 1u);
}

TEST(StepRunnerTest, LinkCrcErrorsAreSummedOverLinks) {
  Harness h;
  h.chip.telemetry_.links[0].crc_errors = 2;
  h.chip.after_slice = [](FakeChip& c) { c.telemetry_.links[1].crc_errors = c.idle_calls; };
  const auto out = h.run(phase(1, {step(0, "idle", 0.3)}, {"F-00"}));
  EXPECT_DOUBLE_EQ(*value_of(out.samples.back(), "link_crc_errors"), 5);
  const auto& m = out.results.at(0).metrics();
  EXPECT_DOUBLE_EQ(m.at("link_crc_errors").min(), 2);  // at the step's start
  EXPECT_DOUBLE_EQ(m.at("link_crc_errors").max(), 5);
  EXPECT_DOUBLE_EQ(m.at("link_down").max(), 0);
}

TEST(StepRunnerTest, BadParamsEndTheStepWithANote) {
  Harness h;
  auto missing = gemm_params();
  missing.erase("k");
  auto garbled = gemm_params();
  garbled["m"] = "lots";
  const auto out =
      h.run(phase(1,
                  {step(0, "gemm", 1.0, missing), step(1, "gemm", 1.0, garbled),
                   step(2, "gemm", 1.0, gemm_params("vote")), step(3, "gemm", 1.0, gemm_params("abft", "fp8"))},
                  {"F-00"}));
  ASSERT_EQ(out.results.size(), 4u);
  EXPECT_EQ(out.result(0)->note(), "param k is missing");
  EXPECT_EQ(out.result(1)->note(), "param m: expected an integer, got a choice");
  // Run alone (no executor, no board), a chip has nobody to vote with.
  EXPECT_EQ(out.result(2)->note(), "verify: vote needs the phase's chips to vote together, and this chip has no board");
  EXPECT_TRUE(out.result(2)->unsupported());
  EXPECT_EQ(out.result(3)->note(), "dtype fp8 is not supported by SKU fake-sku");
  EXPECT_TRUE(out.result(3)->unsupported());
  for (const auto& r : out.results) EXPECT_FALSE(r.completed());
  EXPECT_EQ(h.chip.gemm_calls, 0);
}

// Regression: the agent checked m, n, k against its own 2^20 while the
// registry caps them at 65536; now both ask the registry's ParamSpec.
TEST(StepRunnerTest, ParamsOutsideTheRegistrysBoundsAreRefusedAsTheLoaderRefusesThem) {
  Harness h;
  auto wide = gemm_params();
  wide["m"] = "65537";
  auto extra = gemm_params();
  extra["depth"] = "3";
  const auto out = h.run(phase(1, {step(0, "gemm", 1.0, wide), step(1, "gemm", 1.0, extra)}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 2u);
  EXPECT_EQ(out.result(0)->note(), "param m: 65537 is out of range [1, 65536]");
  EXPECT_EQ(out.result(1)->note(), "param depth is not a param of pattern gemm");
  for (const auto& r : out.results) {
    EXPECT_FALSE(r.completed());
    EXPECT_FALSE(r.unsupported());
  }
  EXPECT_EQ(h.chip.gemm_calls, 0);
}

TEST(StepRunnerTest, ParallelStepsTimeSliceTheChip) {
  Harness h;
  const auto out =
      h.run(phase(1, {step(0, "gemm", 1.0, gemm_params()), step(1, "gemm", 0.5, gemm_params("none"))}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 2u);
  EXPECT_NEAR(out.result(0)->ran_s(), 1.0, 1e-9);
  EXPECT_NEAR(out.result(1)->ran_s(), 0.5, 1e-9);
  EXPECT_EQ(h.chip.gemm_calls, 15);  // 5 shared ticks × 2 + 5 alone
  const auto first = out.samples_of(0);
  ASSERT_EQ(first.size(), 10u);
  EXPECT_NEAR(*value_of(first[0], "tflops"), 40, 1e-9);  // half the chip
  EXPECT_NEAR(*value_of(first[9], "tflops"), 80, 1e-9);  // all of it
  // verify: none produces no verification counter.
  EXPECT_FALSE(value_of(out.samples_of(1)[0], "sdc_errors").has_value());
  EXPECT_EQ(out.result(1)->metrics().count("sdc_errors"), 0u);
}

TEST(StepRunnerTest, AnExceptionFromTheChipBecomesAResultNotACrash) {
  Harness h;
  h.chip.after_slice = [](FakeChip& c) {
    if (c.gemm_calls == 3) throw std::runtime_error("driver fell over");
  };
  const auto out = h.run(phase(1, {step(0, "gemm", 1.0, gemm_params()), step(1, "idle", 1.0)}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 2u);
  for (const auto& r : out.results) {
    EXPECT_FALSE(r.completed());
    EXPECT_EQ(r.note(), "internal error: driver fell over");
  }
}

// No input from a chip crashes the agent: a backend that returns no tile,
// or a tile whose vectors do not match its shape or hold NaN inputs, gets
// its step ended without a verdict it cannot vouch for, under every
// verification that reads tiles; the next step still runs.
struct BrokenTile {
  const char* what;
  std::function<void(device::GemmSlice&)> mangle;
};

class MalformedTile : public ::testing::TestWithParam<std::tuple<const char*, int>> {};

// Tiles are immutable once returned: a broken backend returns a broken copy.
std::function<void(device::GemmSlice&)> mangled(std::function<void(device::GemmTile&)> mangle) {
  return [mangle](device::GemmSlice& s) {
    auto copy = std::make_shared<device::GemmTile>(*s.tile);
    mangle(*copy);
    s.tile = std::move(copy);
  };
}

std::vector<BrokenTile> broken_tiles() {
  return {
      {"no tile", [](device::GemmSlice& s) { s.tile.reset(); }},
      {"short c", mangled([](device::GemmTile& t) { t.c.resize(t.c.size() / 2); })},
      {"short a", mangled([](device::GemmTile& t) { t.a.resize(3); })},
      {"columns disagree", mangled([](device::GemmTile& t) { t.cols += 5; })},
      {"empty shape", mangled([](device::GemmTile& t) { t.rows = 0; })},
      {"nan input", mangled([](device::GemmTile& t) { t.b[1] = std::nanf(""); })},
  };
}

TEST_P(MalformedTile, EndsTheStepUnvouchedAndTheAgentCarriesOn) {
  const auto [verify, which] = GetParam();
  const BrokenTile broken = broken_tiles()[static_cast<std::size_t>(which)];
  SCOPED_TRACE(std::string(verify) + ", " + broken.what);
  Harness h;
  h.chip.mangle_slice = broken.mangle;
  const auto out = h.run(phase(1, {step(0, "gemm", 1.0, gemm_params(verify))}, {"F-00"}));
  ASSERT_EQ(out.results.size(), 1u);
  const auto& r = *out.result(0);
  EXPECT_FALSE(r.completed()) << "a step whose tiles could not be checked cannot pass";
  EXPECT_FALSE(r.note().empty());
  // And the chip can still be tested: the next phase runs normally.
  h.chip.mangle_slice = nullptr;
  const auto next = h.run(phase(2, {step(1, "gemm", 0.5, gemm_params(verify))}, {"F-00"}));
  ASSERT_EQ(next.results.size(), 1u);
  EXPECT_TRUE(next.result(1)->completed()) << next.result(1)->note();
}

INSTANTIATE_TEST_SUITE_P(EveryTileReadingVerify, MalformedTile,
                         ::testing::Combine(::testing::Values("abft", "golden", "abft+golden"),
                                            ::testing::Range(0, 6)));

TEST(StepRunnerTest, TickSecondsFallsBackForNonsenseRates) {
  EXPECT_DOUBLE_EQ(tick_seconds(10), 0.1);
  EXPECT_DOUBLE_EQ(tick_seconds(0), 0.1);
  EXPECT_DOUBLE_EQ(tick_seconds(-3), 0.1);
  EXPECT_DOUBLE_EQ(tick_seconds(1e9), 0.1);
  EXPECT_DOUBLE_EQ(tick_seconds(2), 0.5);
}

}  // namespace
}  // namespace kiln::agent
