// docs/verdicts.md states, per shipped plan, how likely an SDC of a given
// rate is to be caught, computed by agents/sdc_coverage.hpp from what the
// plan runs. This checks that model against the twin: racks of identical
// chips, each with an SDC in a mantissa bit far below ABFT's bound, run one
// abft+golden step; the share of chips caught and the number of corrupted
// results found must be what the model predicts, within sampling error.
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agents/sdc_coverage.hpp"
#include "device/sim/compute_model.hpp"
#include "testplans/loader.hpp"
#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

constexpr int kChipsPerRack = 48;
constexpr double kStepSeconds = 10;
constexpr double kSampleHz = 10;

const std::string kPlan = fmt::format(R"(plan: coverage-check
seed: 5
sample_hz: {}
steps:
  - {{name: gemm, pattern: gemm, duration: {}s, params: {{dtype: bf16, verify: abft+golden}}}}
)",
                                      kSampleHz, kStepSeconds);

struct RackCase {
  std::string id;
  std::string sku;
  double rate = 0;
};

agent::SdcCoverage model(const device::Sku& sku) {
  auto loaded = plan::load_plan(kPlan, "coverage-check.yaml", plan::PatternRegistry::builtin());
  EXPECT_TRUE(loaded.plan);
  // A 10 s step starts cool: the chip runs at its max clock throughout.
  return agent::sdc_coverage(*loaded.plan, [&](const device::GemmWork& work) {
    return device::gemm_flops_per_second(sku, work, sku.max_clock_mhz) / device::gemm_flops(work);
  });
}

std::string lab_yaml(const std::vector<RackCase>& racks) {
  std::string text = "lab: coverage\nseed: 91\ntime_scale: 600\nracks:\n";
  for (const RackCase& r : racks) {
    text += fmt::format("  - id: {}\n    backend: sim\n    topology: ring\n    chips:\n", r.id);
    for (int slot = 0; slot < kChipsPerRack; ++slot) {
      text += fmt::format(
          "      - {{slot: {}, serial: {}-{}, sku: {}, faults: [{{kind: sdc, core: 1, pe: [3, 5], bit: 2, "
          "rate: {:.9e}}}]}}\n",
          slot, r.id, slot, r.sku, r.rate);
    }
  }
  return text;
}

TEST(SdcCoverageOnTheTwin, CatchShareAndCorruptedResultsFoundAreWhatTheModelPredicts) {
  LabFixture lab;
  std::vector<RackCase> racks;
  for (const char* sku : {"trn2-sim", "h100-sim"}) {
    const agent::SdcCoverage c = model(*lab.catalog().find(sku));
    ASSERT_GT(c.bitwise_gemms, 0);
    // One rack where half the chips should be caught, one where each chip
    // should show about seven corrupted results.
    racks.push_back({fmt::format("{}-half", sku[0]), sku, c.rate_caught_with(0.5)});
    racks.push_back({fmt::format("{}-many", sku[0]), sku, 10 * c.rate_caught_with(0.5)});
  }
  lab.start(lab_yaml(racks));
  lab.wait_for_racks(racks.size());
  const auto run_id = lab.submit(kPlan);
  const Json run = Json::parse(lab.wait_for_run(run_id, std::chrono::seconds(600)));
  ASSERT_EQ(run["status"], "completed") << run.dump(2);
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));

  for (const RackCase& r : racks) {
    SCOPED_TRACE(r.id + " rate " + std::to_string(r.rate));
    const agent::SdcCoverage c = model(*lab.catalog().find(r.sku));
    // The model's GEMMs per compared slice: every other slice is golden.
    const double golden_slices = kStepSeconds * kSampleHz / 2;
    const double per_slice = agent::hit_probability(r.rate, c.bitwise_gemms / golden_slices);
    const double p_caught = c.catch_probability(r.rate);
    int caught = 0;
    double found = 0;
    for (const auto& chip : report["chips"]) {
      if (chip["serial"].get<std::string>().rfind(r.id + "-", 0) != 0) continue;
      bool sdc_at_pe = false;
      for (const auto& f : chip["failures"]) {
        if (f["class"] != "sdc") continue;
        // Bit 2 is far below ABFT's bound: only the golden comparison sees it.
        EXPECT_EQ(f["bit"], 2) << f.dump();
        EXPECT_EQ(f["core"], 1) << f.dump();
        EXPECT_EQ(f["pe"], Json::array({3, 5})) << f.dump();
        sdc_at_pe = true;
        found += f["count"].get<double>();
      }
      EXPECT_EQ(chip["verdict"], sdc_at_pe ? "fail" : "pass") << chip.dump(2);
      caught += sdc_at_pe ? 1 : 0;
    }
    // Binomial share of chips caught, Poisson-like count of results found:
    // both within 4 standard deviations of the model.
    const double n = kChipsPerRack;
    const double expected_found = n * golden_slices * per_slice;
    fmt::print("{}: {} of {} chips caught (model {:.1f}), {} corrupted results found (model {:.1f})\n", r.id, caught,
               kChipsPerRack, n * p_caught, found, expected_found);
    const double share_sd = std::sqrt(p_caught * (1 - p_caught) / n);
    EXPECT_NEAR(caught / n, p_caught, 4 * share_sd + 1 / n);
    const double found_sd = std::sqrt(n * golden_slices * per_slice * (1 - per_slice));
    EXPECT_NEAR(found, expected_found, 4 * found_sd + 1);
  }
}

}  // namespace
}  // namespace kiln::testing
