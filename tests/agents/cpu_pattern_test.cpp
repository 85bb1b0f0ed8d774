// Patterns on the real cpu chip: a verified GEMM step really runs, a
// corrupted output element is reported at its row, column and bit, memory
// patterns run on host memory, and what the host cannot do is reported
// unsupported (inconclusive), not passed.
#include <gtest/gtest.h>

#include "agent_test_util.hpp"
#include "agents/chip_phase.hpp"
#include "device/cpu/cpu_chip.hpp"

namespace kiln::agent {
namespace {

using testing::drain;
using testing::phase;
using testing::step;

std::map<std::string, std::string> small_gemm() {
  return {{"dtype", "fp32"}, {"m", "512"}, {"n", "512"}, {"k", "512"}, {"verify", "abft"}, {"data", "random"}};
}

struct CpuRun {
  device::CpuChip chip{[] {
    device::CpuChipConfig config;
    config.identity = device::ChipIdentity{"HOST-CPU0", "host", 0, "cpu"};
    config.peak.fp32_gflops = 50;
    return config;
  }()};

  testing::Drained run(const std::vector<kiln::v1::StepSpec>& steps) {
    ChipPhaseOptions options;
    options.backend = "cpu";
    options.time_scale = 1;
    Outbox outbox("host", 1);
    ChipRunState state;
    run_chip_phase(chip, phase(1, steps, {"HOST-CPU0"}, 10), state, options, outbox, std::stop_token{});
    return drain(outbox);
  }
};

TEST(CpuPatternTest, VerifiedGemmRunsAndAHealthyChipShowsNothing) {
  CpuRun cpu;
  const auto out = cpu.run({step(0, "gemm", 0.5, small_gemm())});
  const auto* r = out.result(0);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->completed()) << r->note();
  EXPECT_EQ(r->detections_size(), 0);
  EXPECT_GT(r->metrics().at("tflops").avg(), 0.0);
  EXPECT_EQ(r->metrics().at("sdc_errors").max(), 0);
  EXPECT_GE(r->ran_s(), 0.5);
  EXPECT_GE(out.samples_of(0).size(), 4u);
}

TEST(CpuPatternTest, CorruptedElementIsReportedAtItsRowColumnAndBit) {
  CpuRun cpu;
  cpu.chip.plant_flip(device::CpuChip::PlantedFlip{77, 301, 28});
  const auto out = cpu.run({step(0, "gemm", 0.3, small_gemm())});
  const auto* r = out.result(0);
  ASSERT_NE(r, nullptr);
  ASSERT_GE(r->detections_size(), 1);
  const auto& d = r->detections(0);
  EXPECT_EQ(d.cls(), kiln::v1::FAILURE_SDC);
  EXPECT_EQ(d.location().at("row"), 77);
  EXPECT_EQ(d.location().at("col"), 301);
  EXPECT_EQ(d.location().at("bit"), 28);
  EXPECT_GT(d.count(), 1u);  // every GEMM of the step
  EXPECT_GT(r->metrics().at("sdc_errors").max(), 0);
}

TEST(CpuPatternTest, GoldenVerificationRunsOnTheCpu) {
  CpuRun cpu;
  auto params = small_gemm();
  params["verify"] = "golden";
  const auto out = cpu.run({step(0, "gemm", 0.3, params)});
  const auto* r = out.result(0);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->completed()) << r->note();
  EXPECT_EQ(r->detections_size(), 0);
  EXPECT_EQ(r->metrics().at("sdc_errors").max(), 0);
}

TEST(CpuPatternTest, WhatTheHostCannotRunIsUnsupportedNotPassed) {
  CpuRun cpu;
  const auto out = cpu.run(
      {step(0, "gemm", 0.2,
            {{"dtype", "fp8"}, {"m", "256"}, {"n", "256"}, {"k", "256"}, {"verify", "abft"}, {"data", "random"}}),
       step(1, "collective", 0.2, {{"op", "allreduce"}, {"sizes", "1048576"}, {"check", "true"}}),
       step(2, "shmoo", 0.2,
            {{"voltage_mv", "750"},
             {"clock_mhz", "2000"},
             {"dtype", "fp32"},
             {"m", "256"},
             {"n", "256"},
             {"k", "256"}})});
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto* r = out.result(i);
    ASSERT_NE(r, nullptr);
    EXPECT_FALSE(r->completed());
    EXPECT_TRUE(r->unsupported()) << r->note();
  }
  EXPECT_EQ(out.result(0)->note(), "dtype fp8 is not supported by SKU cpu");
  EXPECT_EQ(out.result(1)->note(), "the cpu backend cannot run collectives");
}

TEST(CpuPatternTest, MemoryPatternRunsOnHostMemoryAndFindsAStuckBit) {
  CpuRun cpu;
  cpu.chip.memory().plant_stuck_bit(1000, 5, false);
  const auto out = cpu.run({step(0, "hbm", 0.3, {{"test", "moving_inversions"}, {"fraction", "0.02"}})});
  const auto* r = out.result(0);
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->completed()) << r->note();
  EXPECT_GT(r->metrics().at("hbm_gbps").avg(), 0.1);
  ASSERT_EQ(r->detections_size(), 1);
  EXPECT_EQ(r->detections(0).cls(), kiln::v1::FAILURE_MEMORY_PATTERN);
  EXPECT_EQ(r->detections(0).location().at("bit"), 5);
  EXPECT_FALSE(r->detections(0).location().contains("stack"));
}

}  // namespace
}  // namespace kiln::agent
