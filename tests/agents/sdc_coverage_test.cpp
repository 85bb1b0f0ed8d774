#include "agents/sdc_coverage.hpp"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "device/sim/compute_model.hpp"
#include "device/sku.hpp"
#include "testplans/loader.hpp"

namespace kiln::agent {
namespace {

plan::Plan load(const std::string& text) {
  auto loaded = plan::load_plan(text, "test.yaml", plan::PatternRegistry::builtin());
  EXPECT_TRUE(loaded.plan) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics.front().message);
  return *loaded.plan;
}

plan::Plan load_shipped(const std::string& name) {
  auto loaded =
      plan::load_plan_file(std::string(KILN_SOURCE_DIR) + "/testplans/" + name, plan::PatternRegistry::builtin());
  EXPECT_TRUE(loaded.plan) << name;
  return *loaded.plan;
}

const GemmRate kHundredPerSecond = [](const device::GemmWork&) { return 100.0; };

TEST(SdcCoverage, ParallelStepsShareTheChipAndRepeatsAdd) {
  const plan::Plan plan = load(R"(plan: t
steps:
  - parallel:
      - {name: hot, pattern: gemm, duration: 60s, params: {verify: golden}}
      - {name: ring, pattern: collective, duration: 30s}
      - {name: rest, pattern: idle, duration: 60s}
  - {name: plain, pattern: gemm, duration: 10s, params: {verify: abft}}
  - {name: mixed, pattern: gemm, duration: 10s, params: {verify: abft+golden}}
  - {name: fast, pattern: gemm, duration: 10s, params: {verify: none}}
repeat: 2
)");
  const SdcCoverage c = sdc_coverage(plan, kHundredPerSecond);
  ASSERT_EQ(c.steps.size(), 8u);
  // Half the chip while the collective runs (idle takes none), all of it after.
  EXPECT_DOUBLE_EQ(c.steps[0].chip_seconds, 15 + 30);
  EXPECT_DOUBLE_EQ(c.steps[0].bitwise_gemms, 4500);
  EXPECT_DOUBLE_EQ(c.steps[0].checksum_gemms, 0);
  EXPECT_DOUBLE_EQ(c.steps[1].bitwise_gemms, 0);
  EXPECT_DOUBLE_EQ(c.steps[1].checksum_gemms, 1000);
  EXPECT_DOUBLE_EQ(c.steps[2].bitwise_gemms, 500);
  EXPECT_DOUBLE_EQ(c.steps[2].checksum_gemms, 500);
  EXPECT_DOUBLE_EQ(c.steps[3].bitwise_gemms + c.steps[3].checksum_gemms, 0);
  EXPECT_EQ(c.steps[4].repeat_index, 1u);
  EXPECT_DOUBLE_EQ(c.bitwise_gemms, 2 * 5000);
  EXPECT_DOUBLE_EQ(c.checksum_gemms, 2 * 1500);
}

TEST(SdcCoverage, CatchProbabilityIsOneMinusTheChanceEveryComparedGemmWasClean) {
  SdcCoverage c;
  c.bitwise_gemms = 5000;
  EXPECT_NEAR(c.catch_probability(1e-4), 1 - std::pow(1 - 1e-4, 5000), 1e-12);
  EXPECT_DOUBLE_EQ(c.catch_probability(1), 1);
  EXPECT_DOUBLE_EQ(c.catch_probability(0), 0);
  const double r = c.rate_caught_with(0.999);
  EXPECT_NEAR(c.catch_probability(r), 0.999, 1e-12);
  EXPECT_TRUE(std::isinf(SdcCoverage{}.rate_caught_with(0.5)));
}

// The issue this answers: low-bit SDCs passed standard.yaml because ABFT's
// bound lies above them and nothing was compared bit for bit.
TEST(SdcCoverage, EveryGemmStepOfTheQualificationPlansComparesBitForBit) {
  auto catalog = device::SkuCatalog::load_directory(std::string(KILN_SOURCE_DIR) + "/device/skus");
  ASSERT_TRUE(catalog.ok());
  for (const char* name : {"standard.yaml", "nightly-burnin.yaml"}) {
    const plan::Plan plan = load_shipped(name);
    for (const auto& sku_name : catalog->names()) {
      const device::Sku& sku = *catalog->find(sku_name);
      SCOPED_TRACE(std::string(name) + " on " + sku_name);
      // A chip held at its base clock the whole plan (the twin's max clock is higher).
      const SdcCoverage c = sdc_coverage(plan, [&](const device::GemmWork& work) {
        return device::gemm_flops_per_second(sku, work, sku.base_clock_mhz) / device::gemm_flops(work);
      });
      ASSERT_FALSE(c.steps.empty());
      for (const auto& step : c.steps) EXPECT_GT(step.bitwise_gemms, 0) << step.step;
      // The issue's floor: an SDC in 1 of 1,000 GEMMs is never missed.
      EXPECT_GT(c.catch_probability(1e-3), 1 - 1e-9);
    }
  }
}

}  // namespace
}  // namespace kiln::agent
