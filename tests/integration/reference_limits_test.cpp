// Limits relative to other chips and to the chip's own past (DESIGN §5):
// `of: peers` fails a binning escape that a loose absolute floor passes,
// and `of: baseline` compares a chip with its last passing run of the
// same plan — inconclusive until there is one, never a pass.
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// Five trn2-sim chips P-0..P-4; chip `slow` (if any) runs at 0.8 speed.
std::string lab_yaml(int slow) { return one_rack_lab("P-", 5, 77, slow, "[{kind: slow, factor: 0.8}]"); }

const Json& chip(const Json& report, int i) {
  for (const auto& c : report["chips"]) {
    if (c["serial"] == fmt::format("P-{}", i)) return c;
  }
  static const Json none;
  ADD_FAILURE() << "no chip P-" << i;
  return none;
}

Json run(LabFixture& lab, const std::string& plan) { return lab.run_report(plan); }

TEST(ReferenceLimits, SlowChipPassesALooseFloorButFailsOfPeers) {
  LabFixture lab;
  lab.start(lab_yaml(3));
  lab.wait_for_racks(1);
  const Json report = run(lab, R"(
plan: peers
seed: 1
sample_hz: 5
steps:
  - {name: floor, pattern: gemm, duration: 3s, params: {dtype: bf16, verify: none}, limits: {tflops: {min: 100}}}
  - {name: peers, pattern: gemm, duration: 3s, params: {dtype: bf16, verify: none}, limits: {tflops: {min: 0.9, of: peers}}}
)");
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const Json& c = chip(report, i);
    EXPECT_EQ(c["steps"][0]["verdict"], "pass") << c.dump(2);  // 0.8 × peak is far above 100 TFLOPS
    if (i == 3) {
      EXPECT_EQ(c["steps"][1]["verdict"], "fail") << c.dump(2);
      ASSERT_EQ(c["failures"].size(), 1u) << c.dump(2);
      EXPECT_EQ(c["failures"][0]["class"], "underperforming");
      EXPECT_NE(c["failures"][0]["detail"].get<std::string>().find("of peer median"), std::string::npos);
    } else {
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
    }
  }
}

TEST(ReferenceLimits, BaselineIsTheChipsLastPassingRunOfThePlan) {
  const char* plan = R"(
plan: baseline
seed: 1
sample_hz: 5
steps:
  - {name: gemm, pattern: gemm, duration: 3s, params: {dtype: bf16, verify: none}, limits: {tflops: {min: 0.95, of: baseline}}}
)";
  LabFixture lab;
  lab.start(lab_yaml(-1));
  lab.wait_for_racks(1);
  // The first run has nothing to compare with: it establishes each chip's baseline.
  const Json first = run(lab, plan);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(chip(first, i)["verdict"], "pass") << chip(first, i).dump(2);
    EXPECT_NE(chip(first, i)["steps"][0].value("reason", "").find("baseline established"), std::string::npos)
        << chip(first, i).dump(2);
  }
  // The second is judged against the first.
  const Json second = run(lab, plan);
  EXPECT_EQ(chip(second, 0)["verdict"], "pass") << chip(second, 0).dump(2);
  EXPECT_EQ(chip(second, 0)["steps"][0].value("reason", ""), "") << chip(second, 0).dump(2);

  // Same serials, the plan passed once by every chip with a plain limit...
  const std::string passing =
      std::string(plan).replace(std::string(plan).find("{min: 0.95, of: baseline}"),
                                std::strlen("{min: 0.95, of: baseline}"), "{min: 0.5, of: peak}");
  const Json third = run(lab, passing);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(chip(third, i)["verdict"], "pass");
  const Json fourth = run(lab, plan);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(chip(fourth, i)["verdict"], "pass") << chip(fourth, i).dump(2);

  // ...then chip P-2 comes back slow: its own history fails it.
  lab.stop_agent("r01");
  std::this_thread::sleep_for(200ms);
  lab.start(lab_yaml(2));
  lab.wait_for_racks(1);
  const Json fifth = run(lab, plan);
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    const Json& c = chip(fifth, i);
    if (i != 2) {
      EXPECT_EQ(c["verdict"], "pass") << c.dump(2);
      continue;
    }
    EXPECT_EQ(c["verdict"], "fail") << c.dump(2);
    ASSERT_EQ(c["failures"].size(), 1u);
    EXPECT_NE(c["failures"][0]["detail"].get<std::string>().find("of baseline"), std::string::npos) << c.dump(2);
  }
}

}  // namespace
}  // namespace kiln::testing
