// One fault never hides another: in a ring of simulated chips, a hung chip
// or a dead link re-forms the rack's collectives round it, so a CRC-erroring
// or narrow link elsewhere in the same rack is still found and located at
// its link, and every healthy chip is judged and passes, whether the hang or
// the dead link came earlier in the plan or in the same step; a link the
// collective's own routes leave idle is tested by a link test stream. A chip
// is inconclusive only when no test of it was physically possible, and says so.
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

// A collective step alone, judged as standard.yaml judges its allreduce.
const char* kLinkPlan = R"(
plan: links
seed: 3
sample_hz: 5
steps:
  - name: allreduce
    pattern: collective
    duration: 8s
    params: {op: allreduce, sizes: [1MiB, 1GiB], check: true}
    limits:
      busbw_gbps: {min: 0.8, of: peak}
      link_gbps: {min: 0.95, of: peak}
      link_crc_errors: {max: 0}
)";

// One ring rack "r01" of `n` trn2-sim chips <prefix>0.. with `faults` (YAML
// flow sequences) by slot.
std::string ring_lab(const std::string& prefix, int n, std::uint64_t seed, const std::map<int, std::string>& faults,
                     int time_scale) {
  std::string chips;
  for (int i = 0; i < n; ++i) {
    const auto f = faults.find(i);
    chips += fmt::format("      - {{slot: {}, serial: {}{}, sku: trn2-sim{}}}\n", i, prefix, i,
                         f == faults.end() ? "" : ", faults: " + f->second);
  }
  return fmt::format(
      "lab: hiding\nseed: {}\ntime_scale: {}\nracks:\n  - id: r01\n    backend: sim\n"
      "    topology: ring\n    chips:\n{}",
      seed, time_scale, chips);
}

Json run(const std::string& lab_yaml, const std::string& plan, std::chrono::seconds timeout) {
  LabFixture lab;
  lab.start(lab_yaml);
  lab.wait_for_racks(1);
  const auto run_id = lab.submit(plan);
  const Json status = Json::parse(lab.wait_for_run(run_id, timeout));
  EXPECT_EQ(status["status"], "completed") << status.dump(2);
  return Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));
}

const Json& chip(const Json& report, const std::string& serial) {
  for (const auto& c : report["chips"]) {
    if (c["serial"] == serial) return c;
  }
  static const Json none;
  ADD_FAILURE() << "no chip " << serial;
  return none;
}

// Failures of `c` of class `cls`, at `link` when it is not negative.
int failures(const Json& c, const std::string& cls, int link = -1) {
  int n = 0;
  for (const auto& f : c["failures"]) {
    if (f["class"] != cls) continue;
    if (link < 0 || (f.contains("link") && f["link"] == link)) ++n;
  }
  return n;
}

// What the report must say of one chip.
struct Expect {
  std::string verdict;
  std::string cls;  // a failure of this class …
  int link = -1;    // … at this link (−1: unlocated)
};

void expect_chips(const Json& report, const std::string& prefix, const std::map<int, Expect>& expected) {
  for (const auto& [slot, e] : expected) {
    const std::string serial = fmt::format("{}{}", prefix, slot);
    SCOPED_TRACE(serial);
    const Json& c = chip(report, serial);
    EXPECT_EQ(c["verdict"], e.verdict) << c.dump(2);
    if (!e.cls.empty()) {
      EXPECT_GE(failures(c, e.cls, e.link), 1) << c.dump(2);
    }
    if (e.verdict == "pass") {
      EXPECT_TRUE(c["failures"].empty()) << c.dump(2);
    }
  }
  EXPECT_EQ(report["chips"].size(), expected.size());
}

// The ring of eight (link 0 → the next slot's link 1):
//   H-0 hangs;
//   H-3's link 1 receives with bit errors (from H-2): CRC at H-3 only;
//   H-5's link 0 is trained at half width: H-5 link 0 and H-6 link 1.
// H-1 and H-7, the hung chip's neighbours, and H-2, H-4 are healthy.
std::map<int, std::string> hang_and_link_faults(const std::string& hang_after) {
  return {{0, fmt::format("[{{kind: hang, after: {}}}]", hang_after)},
          {3, "[{kind: link_crc, link: 1, ber: 1e-9}]"},
          {5, "[{kind: link_degraded, link: 0, bandwidth_factor: 0.5}]"}};
}

const std::map<int, Expect> kHangAndLinkFaultsVerdicts = {
    {0, {"fail", "hang"}},
    {1, {"pass"}},
    {2, {"pass"}},
    {3, {"fail", "link_errors", 1}},
    {4, {"pass"}},
    {5, {"fail", "link_degraded", 0}},
    {6, {"fail", "link_degraded", 1}},
    {7, {"pass"}},
};

class HangAndLinkFaults : public ::testing::TestWithParam<std::string> {};

// The hang comes during gemm-bf16 (3m, before any collective) or in the
// middle of the allreduce step itself (10m).
TEST_P(HangAndLinkFaults, StandardPlanFindsEveryLinkFaultAtItsLinkAndPassesEveryHealthyChip) {
  const Json report = run(ring_lab("H-", 8, 61, hang_and_link_faults(GetParam()), 600), shipped_plan("standard.yaml"),
                          std::chrono::seconds(300));
  expect_chips(report, "H-", kHangAndLinkFaultsVerdicts);
  // The healthy chips say what their collectives were re-formed round and
  // that their bandwidth was judged as the whole rack's.
  const Json& healthy = chip(report, "H-2");
  bool told = false;
  for (const auto& step : healthy["steps"]) {
    const std::string note = step.value("note", "");
    told = told || (note.find("re-formed without H-0") != std::string::npos &&
                    note.find("the whole rack's equivalent") != std::string::npos);
  }
  EXPECT_TRUE(told) << healthy.dump(2);
}

INSTANTIATE_TEST_SUITE_P(HangEarlierOrInTheSameStep, HangAndLinkFaults, ::testing::Values("3m", "10m"),
                         [](const auto& info) { return info.param == "3m" ? "Earlier" : "SameStep"; });

TEST(FaultHiding, ADeadLinkAndACrcFaultElsewhereAreBothFoundAndTheRestPass) {
  // Ring of six: the cable D-1 link 0 ↔ D-2 link 1 dies in the step; D-4's
  // link 0 receives with bit errors (from D-5's link 1).
  const std::map<int, std::string> faults = {{1, "[{kind: link_down, link: 0, after: 2s}]"},
                                             {4, "[{kind: link_crc, link: 0, ber: 1e-9}]"}};
  const Json report = run(ring_lab("D-", 6, 62, faults, 100), kLinkPlan, std::chrono::seconds(120));
  expect_chips(report, "D-",
               {{0, {"pass"}},
                {1, {"fail", "link_down", 0}},
                {2, {"fail", "link_down", 1}},
                {3, {"pass"}},
                {4, {"fail", "link_errors", 0}},
                {5, {"pass"}}});
  // The dead link's ends are failed for it, not for the bandwidth the detour costs.
  for (const char* serial : {"D-1", "D-2"}) EXPECT_EQ(failures(chip(report, serial), "underperforming"), 0);
}

TEST(FaultHiding, StandardPlanFindsADeadLinkBeforeTheCollectivesAndACrcFaultInThem) {
  const std::map<int, std::string> faults = {{1, "[{kind: link_down, link: 0, after: 2m}]"},
                                             {4, "[{kind: link_crc, link: 0, ber: 1e-9}]"}};
  const Json report = run(ring_lab("E-", 6, 63, faults, 600), shipped_plan("standard.yaml"), std::chrono::seconds(300));
  expect_chips(report, "E-",
               {{0, {"pass"}},
                {1, {"fail", "link_down", 0}},
                {2, {"fail", "link_down", 1}},
                {3, {"pass"}},
                {4, {"fail", "link_errors", 0}},
                {5, {"pass"}}});
}

TEST(FaultHiding, ACrcFaultOnOneDirectionOfACableIsLocatedAtThatReceiverOnly) {
  // Ring of five with P-0 hung from the start (re-formed into a line):
  // P-2's link 0 receives from P-3's link 1 with bit errors; the other
  // direction of that cable (P-2 → P-3, received on P-3's link 1) is clean.
  const std::map<int, std::string> faults = {{0, "[{kind: hang, after: 0s}]"},
                                             {2, "[{kind: link_crc, link: 0, ber: 1e-9}]"}};
  const Json report = run(ring_lab("P-", 5, 64, faults, 100), kLinkPlan, std::chrono::seconds(120));
  expect_chips(report, "P-",
               {{0, {"fail", "hang"}}, {1, {"pass"}}, {2, {"fail", "link_errors", 0}}, {3, {"pass"}}, {4, {"pass"}}});
  EXPECT_EQ(failures(chip(report, "P-2"), "link_errors", 1), 0);
  EXPECT_EQ(failures(chip(report, "P-3"), "link_errors"), 0);
}

TEST(FaultHiding, ACrcFaultOnACableDirectionTheAllreduceLeavesIdleIsFoundByTheLinkTest) {
  // A ring of two: allreduce sends R-0 → R-1 on R-0's link 0 and back on
  // R-1's link 0, so R-0's link 0 receives (from R-1's link 1) only the link test.
  const Json report = run(ring_lab("R-", 2, 66, {{0, "[{kind: link_crc, link: 0, ber: 1e-9}]"}}, 100), kLinkPlan,
                          std::chrono::seconds(120));
  expect_chips(report, "R-", {{0, {"fail", "link_errors", 0}}, {1, {"pass"}}});
}

TEST(FaultHiding, AChipWithNoWorkingLinkToALivePeerIsInconclusiveAndTheReportSaysWhy) {
  // A ring of two whose other chip hangs: nothing can test Q-1's links.
  const Json report =
      run(ring_lab("Q-", 2, 65, {{0, "[{kind: hang, after: 0s}]"}}, 100), kLinkPlan, std::chrono::seconds(120));
  expect_chips(report, "Q-", {{0, {"fail", "hang"}}, {1, {"inconclusive"}}});
  const std::string note = chip(report, "Q-1")["steps"][0].value("note", "");
  EXPECT_NE(note.find("no test of this chip was possible"), std::string::npos) << note;
  EXPECT_NE(note.find("Q-0"), std::string::npos) << note;
}

}  // namespace
}  // namespace kiln::testing
