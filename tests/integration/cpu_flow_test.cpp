// The cpu backend judged end to end: a host split into chips
// (`cpu_chips: 2`) runs verified GEMMs on each chip's cores and checked
// collectives over shared memory; a limit the host cannot read is
// inconclusive.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

TEST(CpuFlow, HostSplitInTwoChipsRunsGemmAndACheckedAllreduce) {
  const Json report = run_on_new_lab(R"(
lab: cpu-split
seed: 1
racks:
  - {id: host, backend: cpu, cpu_chips: 2}
)",
                                     R"(
plan: cpu-split
seed: 3
sample_hz: 5
steps:
  - name: gemm
    pattern: gemm
    duration: 2s
    params: {dtype: fp32, m: 256, n: 256, k: 256, verify: abft}
    limits: {sdc_errors: {max: 0}}
  - name: ring
    pattern: collective
    duration: 2s
    params: {op: allreduce, sizes: [1MiB, 4MiB], check: true}
    limits: {busbw_gbps: {min: 0.01}}
)");
  ASSERT_EQ(report["chips"].size(), 2u);
  for (const auto& chip : report["chips"]) {
    EXPECT_EQ(chip["sku"], "cpu");
    EXPECT_EQ(chip["verdict"], "pass") << chip.dump(2);
    const Json& ring = chip["steps"][1];
    EXPECT_GT(ring["metrics"]["busbw_gbps"]["avg"].get<double>(), 0.01);
    EXPECT_EQ(ring["metrics"]["data_errors"]["max"].get<double>(), 0);
    EXPECT_NE(ring["note"].get<std::string>().find("busbw GB/s by size"), std::string::npos) << ring.dump(2);
  }
}

// The cpu backend has no HBM and no ECC counters: a limit on one is not
// judged, and the chip is inconclusive, never passed.
TEST(CpuFlow, LimitOnAMetricTheHostCannotReadIsInconclusive) {
  const Json report = run_on_new_lab("lab: cpu\nseed: 1\nracks:\n  - {id: host, backend: cpu}\n", R"(
plan: cpu-unreadable
seed: 3
sample_hz: 5
steps:
  - name: gemm
    pattern: gemm
    duration: 1s
    params: {dtype: fp32, m: 256, n: 256, k: 256, verify: abft}
    limits: {sdc_errors: {max: 0}, hbm_ue: {max: 0}}
)");
  ASSERT_EQ(report["chips"].size(), 1u);
  const Json& chip = report["chips"][0];
  EXPECT_EQ(chip["verdict"], "inconclusive") << chip.dump(2);
  EXPECT_NE(chip["steps"][0]["reason"].get<std::string>().find("hbm_ue: unavailable on this chip"), std::string::npos)
      << chip.dump(2);
  EXPECT_TRUE(chip["failures"].empty());
}

}  // namespace
}  // namespace kiln::testing
