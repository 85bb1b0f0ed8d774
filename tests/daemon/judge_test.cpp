#include "daemon/judge.hpp"

#include <gtest/gtest.h>

namespace kiln::daemon {
namespace {

plan::Step gemm_step() {
  plan::Step step;
  step.name = "gemm-bf16";
  step.pattern = "gemm";
  step.params = {{"dtype", "bf16"}};
  plan::Limit sdc{"sdc_errors"};
  sdc.max = 0;
  plan::Limit tflops{"tflops"};
  tflops.min = 0.85;
  tflops.marginal_min = 0.9;
  tflops.of = plan::LimitBase::peak;
  plan::Limit temp{"temperature_c"};
  temp.max = 95;
  temp.marginal_max = 90;
  step.limits = {sdc, tflops, temp};
  return step;
}

kiln::v1::ChipStepResult healthy_result() {
  kiln::v1::ChipStepResult r;
  r.set_serial("TRN-0200");
  r.set_completed(true);
  auto put = [&](const char* name, double min, double avg, double max) {
    auto& s = (*r.mutable_metrics())[name];
    s.set_min(min);
    s.set_avg(avg);
    s.set_max(max);
    s.set_count(100);
  };
  put("sdc_errors", 0, 0, 0);
  put("tflops", 600, 620, 640);
  put("temperature_c", 30, 70, 82);
  return r;
}

struct Fixture {
  plan::Step step = gemm_step();
  std::map<std::string, double> peaks{{"tflops.bf16", 667}};
  kiln::v1::ChipStepResult result = healthy_result();
  Judgement run(const PeerReference* peers = nullptr) {
    JudgeInput in;
    in.step = &step;
    in.step_index = 0;
    in.result = &result;
    in.peaks = &peaks;
    in.peers = peers;
    return judge(in);
  }
};

TEST(Judge, HealthyChipPasses) {
  Fixture f;
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::pass) << j.reason;
  EXPECT_TRUE(j.failures.empty());
}

TEST(Judge, SdcFailsWithTheDetectedLocationAndConditions) {
  Fixture f;
  (*f.result.mutable_metrics())["sdc_errors"].set_max(17);
  auto* d = f.result.add_detections();
  d->set_cls(kiln::v1::FAILURE_SDC);
  d->set_kind(kiln::v1::DETECTION_CORRUPTION);
  d->set_metric("sdc_errors");
  d->set_count(17);
  d->set_first_wall_unix_ms(1764091969123);
  (*d->mutable_location())["core"] = 1;
  (*d->mutable_location())["pe_row"] = 12;
  (*d->mutable_location())["pe_col"] = 40;
  (*d->mutable_location())["bit"] = 22;
  d->mutable_conditions()->set_temperature_c(71.3);
  d->mutable_conditions()->set_clock_mhz(2400);
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::fail);
  ASSERT_EQ(j.failures.size(), 1u);
  EXPECT_EQ(j.failures[0].cls, "sdc");
  EXPECT_EQ(j.failures[0].count, 17u);
  EXPECT_EQ(j.failures[0].step_name, "gemm-bf16");
  EXPECT_EQ(j.failures[0].location_json, R"({"core":1,"pe":[12,40],"bit":22})");
  EXPECT_NE(j.failures[0].conditions_json.find("\"temperature_c\":71.3"), std::string::npos);
  EXPECT_NE(j.reason.find("sdc_errors max 17 > max 0"), std::string::npos) << j.reason;
}

TEST(Judge, BelowPeakFractionFailsAsUnderperforming) {
  Fixture f;
  (*f.result.mutable_metrics())["tflops"].set_avg(500);  // 0.75 of 667
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::fail);
  ASSERT_EQ(j.failures.size(), 1u);
  EXPECT_EQ(j.failures[0].cls, "underperforming");
  EXPECT_NE(j.failures[0].detail.find("of peak 667"), std::string::npos) << j.failures[0].detail;
}

TEST(Judge, MarginalBandGivesMarginalNotPass) {
  Fixture f;
  (*f.result.mutable_metrics())["temperature_c"].set_max(92);
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::marginal);
  EXPECT_TRUE(j.failures.empty());
}

TEST(Judge, UnavailableMetricIsInconclusiveNeverPass) {
  Fixture f;
  f.result.mutable_metrics()->erase("temperature_c");
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::inconclusive);
  EXPECT_NE(j.reason.find("temperature_c: unavailable"), std::string::npos);
}

TEST(Judge, MissingPeakFigureIsInconclusive) {
  Fixture f;
  f.peaks.clear();
  EXPECT_EQ(f.run().verdict, Verdict::inconclusive);
}

TEST(Judge, StepCutShortIsInconclusiveButFailuresStillFail) {
  Fixture f;
  f.result.set_completed(false);
  f.result.set_note("aborted");
  EXPECT_EQ(f.run().verdict, Verdict::inconclusive);
  (*f.result.mutable_metrics())["sdc_errors"].set_max(3);
  EXPECT_EQ(f.run().verdict, Verdict::fail);
}

TEST(Judge, HangFailsWhateverTheLimitsSay) {
  Fixture f;
  f.step.limits.clear();
  auto* d = f.result.add_detections();
  d->set_cls(kiln::v1::FAILURE_HANG);
  d->set_kind(kiln::v1::DETECTION_HANG);
  d->set_count(1);
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::fail);
  ASSERT_EQ(j.failures.size(), 1u);
  EXPECT_EQ(j.failures[0].cls, "hang");
}

TEST(Judge, UnsupportedPatternIsInconclusive) {
  Fixture f;
  f.result.set_unsupported(true);
  f.result.set_note("pattern hbm is not supported by the sim backend yet");
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::inconclusive);
  EXPECT_NE(j.reason.find("hbm"), std::string::npos);
}

TEST(Judge, NoResultTakesTheMissingVerdict) {
  Fixture f;
  JudgeInput in;
  in.step = &f.step;
  in.missing_reason = "agent of rack r02 lost";
  in.missing_verdict = Verdict::error;
  auto j = judge(in);
  EXPECT_EQ(j.verdict, Verdict::error);
  EXPECT_EQ(j.reason, "agent of rack r02 lost");
}

TEST(Judge, PeersNeedEnoughChipsAndCatchASlowOne) {
  Fixture f;
  f.step.limits = {plan::Limit{"tflops"}};
  f.step.limits[0].min = 0.9;
  f.step.limits[0].of = plan::LimitBase::peers;
  std::vector<kiln::v1::ChipStepResult> fleet(5, healthy_result());
  std::vector<const kiln::v1::ChipStepResult*> pointers;
  for (auto& r : fleet) pointers.push_back(&r);
  auto two = peer_reference({pointers[0], pointers[1]});
  EXPECT_EQ(f.run(&two).verdict, Verdict::inconclusive);
  auto five = peer_reference(pointers);
  EXPECT_EQ(f.run(&five).verdict, Verdict::pass);
  (*f.result.mutable_metrics())["tflops"].set_avg(620 * 0.8);  // a `slow: 0.8` chip
  EXPECT_EQ(f.run(&five).verdict, Verdict::fail);
}

TEST(Verdict, FailOutranksErrorSoAFaultyChipIsNeverHidden) {
  EXPECT_EQ(worst(Verdict::fail, Verdict::error), Verdict::fail);
  EXPECT_EQ(worst(Verdict::pass, Verdict::inconclusive), Verdict::inconclusive);
  EXPECT_EQ(worst(Verdict::marginal, Verdict::pass), Verdict::marginal);
  EXPECT_EQ(parse_verdict("marginal"), Verdict::marginal);
  EXPECT_FALSE(parse_verdict("ok"));
}

}  // namespace
}  // namespace kiln::daemon

namespace kiln::daemon {
namespace {

TEST(Judge, CountersAreJudgedOnTheStepsOwnIncrease) {
  // sdc_errors is cumulative within the run: 4 errors seen in an earlier step
  // must not fail this one, which added none.
  Fixture f;
  auto& sdc = (*f.result.mutable_metrics())["sdc_errors"];
  sdc.set_min(4);
  sdc.set_avg(4);
  sdc.set_max(4);
  EXPECT_EQ(f.run().verdict, Verdict::pass) << f.run().reason;
  sdc.set_max(6);
  auto j = f.run();
  EXPECT_EQ(j.verdict, Verdict::fail);
  ASSERT_EQ(j.failures.size(), 1u);
  EXPECT_EQ(j.failures[0].count, 2u);
}

}  // namespace
}  // namespace kiln::daemon

namespace kiln::daemon {
namespace {

// The live view: what the judge decides of a step still running.
struct SoFarFixture {
  plan::Step step = gemm_step();
  std::map<std::string, double> peaks{{"tflops.bf16", 667}};
  kiln::v1::ChipStepResult partial = healthy_result();
  SoFar run() {
    JudgeInput in;
    in.step = &step;
    in.result = &partial;
    in.peaks = &peaks;
    return judge_so_far(in);
  }
};

TEST(JudgeSoFar, NothingDecidedIsRunning) {
  SoFarFixture f;
  const SoFar so_far = f.run();
  EXPECT_EQ(so_far.state, SoFar::State::running);
  EXPECT_TRUE(so_far.reason.empty());
}

TEST(JudgeSoFar, ACounterPastItsMaxIsOverTheLimitSoFar) {
  SoFarFixture f;
  auto& sdc = (*f.partial.mutable_metrics())["sdc_errors"];
  sdc.set_min(0);
  sdc.set_max(3);
  const SoFar so_far = f.run();
  EXPECT_EQ(so_far.state, SoFar::State::over_limit);
  EXPECT_NE(so_far.reason.find("sdc_errors max 3 > max 0"), std::string::npos) << so_far.reason;
}

TEST(JudgeSoFar, CorrectableErrorsUnderTheirLimitAreNotAConcern) {
  // Regression: a chip with 3 correctable ECC errors under hbm_ce {max: 10}
  // showed red in the live view while the judge passed it.
  SoFarFixture f;
  plan::Limit ce{"hbm_ce"};
  ce.max = 10;
  f.step.limits.push_back(ce);
  auto& hbm = (*f.partial.mutable_metrics())["hbm_ce"];
  hbm.set_min(0);
  hbm.set_max(3);
  hbm.set_count(50);
  auto* d = f.partial.add_detections();
  d->set_cls(kiln::v1::FAILURE_MEMORY_CE_EXCESS);
  d->set_kind(kiln::v1::DETECTION_ERROR_COUNT);
  d->set_metric("hbm_ce");
  d->set_count(3);
  EXPECT_EQ(f.run().state, SoFar::State::running);
}

TEST(JudgeSoFar, AnAverageBelowItsFloorSoFarIsNotDecided) {
  SoFarFixture f;
  (*f.partial.mutable_metrics())["tflops"].set_avg(100);  // well under 0.85 of 667, but the step may recover
  EXPECT_EQ(f.run().state, SoFar::State::running);
}

TEST(JudgeSoFar, AHealthWatchFailsAtOnce) {
  SoFarFixture f;
  auto* d = f.partial.add_detections();
  d->set_cls(kiln::v1::FAILURE_MEMORY_UE);
  d->set_kind(kiln::v1::DETECTION_UNCORRECTABLE);
  d->set_metric("hbm_ue");
  d->set_count(1);
  const SoFar so_far = f.run();
  EXPECT_EQ(so_far.state, SoFar::State::failed);
  EXPECT_NE(so_far.reason.find("memory_ue"), std::string::npos) << so_far.reason;
}

TEST(JudgeSoFar, PeerLimitsWaitForThePeers) {
  SoFarFixture f;
  plan::Limit hot{"temperature_c"};
  hot.max = 1.01;
  hot.of = plan::LimitBase::peers;
  f.step.limits = {hot};
  (*f.partial.mutable_metrics())["temperature_c"].set_max(500);
  EXPECT_EQ(f.run().state, SoFar::State::running);
}

TEST(JudgeSoFar, AStepCutShortOrAMissingMetricIsNotDecidedYet) {
  SoFarFixture f;
  f.partial.set_completed(false);
  f.partial.mutable_metrics()->erase("temperature_c");
  EXPECT_EQ(f.run().state, SoFar::State::running);
}

}  // namespace
}  // namespace kiln::daemon

namespace kiln::daemon {
namespace {

TEST(Judge, DetectedCorruptionFailsEvenInAStepWithoutAnSdcLimit) {
  // Regression: the demo lab's planted chip had hundreds of located SDCs in
  // standard.yaml's gemm-hot step, judged pass because that step set no
  // sdc_errors limit.
  Fixture f;
  f.step.limits.clear();
  auto* d = f.result.add_detections();
  d->set_cls(kiln::v1::FAILURE_SDC);
  d->set_kind(kiln::v1::DETECTION_CORRUPTION);
  d->set_metric("sdc_errors");
  d->set_count(250);
  (*d->mutable_location())["core"] = 1;
  const Judgement j = f.run();
  EXPECT_EQ(j.verdict, Verdict::fail);
  ASSERT_EQ(j.failures.size(), 1u);
  EXPECT_EQ(j.failures[0].cls, "sdc");
  EXPECT_EQ(j.failures[0].count, 250u);
}

TEST(Judge, AMemoryPatternMiscompareFailsWhateverTheLimits) {
  Fixture f;
  f.step.limits.clear();
  auto* d = f.result.add_detections();
  d->set_cls(kiln::v1::FAILURE_MEMORY_PATTERN);
  d->set_kind(kiln::v1::DETECTION_CORRUPTION);
  d->set_metric("memory_errors");
  d->set_count(3);
  EXPECT_EQ(f.run().verdict, Verdict::fail);
}

TEST(Judge, CountedCorrectableErrorsAreJudgedByTheirLimitOnly) {
  Fixture f;
  f.step.limits.clear();
  auto* d = f.result.add_detections();
  d->set_cls(kiln::v1::FAILURE_MEMORY_CE_EXCESS);
  d->set_kind(kiln::v1::DETECTION_ERROR_COUNT);
  d->set_metric("hbm_ce");
  d->set_count(3);
  EXPECT_EQ(f.run().verdict, Verdict::pass);
}

TEST(Judge, AFirstRunEstablishesTheBaselineInsteadOfBeingJudged) {
  Fixture f;
  plan::Limit drift{"tflops"};
  drift.min = 0.97;
  drift.of = plan::LimitBase::baseline;
  f.step.limits = {drift};
  const Judgement first = f.run();  // no BaselineReference: the chip never passed this plan
  EXPECT_EQ(first.verdict, Verdict::pass);
  EXPECT_NE(first.reason.find("tflops: baseline established"), std::string::npos) << first.reason;

  BaselineReference baseline;
  baseline.run_id = 4;
  baseline.avg["tflops"] = 700;  // the chip did 700 then, 620 now
  baseline.max["tflops"] = 720;
  JudgeInput in;
  in.step = &f.step;
  in.result = &f.result;
  in.peaks = &f.peaks;
  in.baseline = &baseline;
  const Judgement second = judge(in);
  EXPECT_EQ(second.verdict, Verdict::fail);
  EXPECT_NE(second.reason.find("of baseline 700 (run 4)"), std::string::npos) << second.reason;
}

}  // namespace
}  // namespace kiln::daemon

namespace kiln::daemon {
namespace {

void add_sdc(kiln::v1::ChipStepResult& r, int core, int row, int col, double t_s, double mhz) {
  auto* d = r.add_detections();
  d->set_cls(kiln::v1::FAILURE_SDC);
  d->set_kind(kiln::v1::DETECTION_CORRUPTION);
  d->set_metric("sdc_errors");
  d->set_count(2);
  d->set_first_t_s(t_s);
  d->set_last_t_s(t_s + 1);
  (*d->mutable_location())["core"] = core;
  (*d->mutable_location())["pe_row"] = row;
  (*d->mutable_location())["pe_col"] = col;
  (*d->mutable_location())["bit"] = 20;
  d->mutable_conditions()->set_temperature_c(60 + t_s);
  d->mutable_conditions()->set_clock_mhz(mhz);
  d->mutable_conditions()->set_voltage_mv(750);
}

TEST(Judge, CorruptionScatteredOverManyPesIsMarginAtItsOperatingPoint) {
  Fixture f;
  (*f.result.mutable_metrics())["sdc_errors"].set_max(10);
  add_sdc(f.result, 1, 2, 3, 40, 2400);
  add_sdc(f.result, 0, 9, 100, 12, 2350);  // the first: 12 s in, at 2350 MHz and 72 °C
  add_sdc(f.result, 3, 60, 7, 50, 2400);
  add_sdc(f.result, 2, 33, 1, 80, 2400);
  add_sdc(f.result, 1, 5, 5, 90, 2400);
  const Judgement j = f.run();
  EXPECT_EQ(j.verdict, Verdict::fail);
  ASSERT_EQ(j.failures.size(), 1u) << j.reason;
  EXPECT_EQ(j.failures[0].cls, "margin");
  EXPECT_EQ(j.failures[0].count, 10u);
  EXPECT_EQ(j.failures[0].location_json, R"({"voltage_mv":750,"clock_mhz":2350})");
  EXPECT_NE(j.failures[0].conditions_json.find("\"temperature_c\":72"), std::string::npos)
      << j.failures[0].conditions_json;
  EXPECT_DOUBLE_EQ(j.failures[0].first_t_s, 12);
  EXPECT_DOUBLE_EQ(j.failures[0].last_t_s, 91);
}

TEST(Judge, CorruptionAtAFewPesStaysSdcAtEachPe) {
  Fixture f;
  (*f.result.mutable_metrics())["sdc_errors"].set_max(6);
  add_sdc(f.result, 1, 2, 3, 40, 2400);
  add_sdc(f.result, 1, 2, 3, 41, 2400);  // the same PE again: one faulty element
  add_sdc(f.result, 0, 9, 100, 12, 2400);
  const Judgement j = f.run();
  ASSERT_EQ(j.failures.size(), 3u);
  for (const auto& failure : j.failures) EXPECT_EQ(failure.cls, "sdc");
}

}  // namespace
}  // namespace kiln::daemon
