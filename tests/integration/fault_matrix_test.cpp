// Every fault kind of DESIGN §3, planted in one simulated lab, run through
// the shipped standard.yaml as a lab engineer would: each faulty chip fails
// with its class and location, every healthy chip passes, and the chips a
// hang or a dead link holds back are inconclusive (their collectives could
// not complete), never passed. Two seeds and two placements.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using Json = nlohmann::json;

std::string standard_plan() {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/testplans/standard.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// One chip of the matrix: its fault (YAML flow map, empty = healthy) and
// what the report must say of it.
struct Planted {
  std::string fault;
  std::string verdict;                           // pass, fail, inconclusive
  std::string cls;                               // a failure of this class …
  std::vector<std::pair<std::string, Json>> at;  // … at this location
};

struct Rack {
  std::string id;
  std::vector<Planted> chips;  // in slot order before rotation
};

// Compute and memory faults share a rack; link faults get racks of their
// own, since a bad link involves the chip at its far end and a dead one
// (or a hung chip) stops every collective of its rack.
std::vector<Rack> matrix() {
  return {
      {"c1",
       {{"{kind: sdc, core: 2, pe: [5, 77], bit: 24, rate: 0.05}",
         "fail",
         "sdc",
         {{"core", 2}, {"pe", Json::array({5, 77})}, {"bit", 24}}},
        {"{kind: slow, factor: 0.8}", "fail", "underperforming", {}},
        {"{kind: cooling, r_th_factor: 2.0}", "fail", "thermal", {}},
        {"{kind: margin, fmax_offset_mhz: -300}", "fail", "margin", {{"voltage_mv", 750}}},
        {"{kind: hbm_ce, stack: 1, channel: 3, rate_per_hour: 2000}",
         "fail",
         "memory_ce_excess",
         {{"stack", 1}, {"channel", 3}}},
        {"{kind: hbm_ue, stack: 0, channel: 5, after: 7m}", "fail", "memory_ue", {{"stack", 0}, {"channel", 5}}},
        {"{kind: hbm_stuck, stack: 3, channel: 2, bit: 40}",
         "fail",
         "memory_pattern",
         {{"stack", 3}, {"channel", 2}, {"bit", 40}}},
        {"", "pass", "", {}}}},
      // Ring of four: link 0 goes to the next slot, arriving on its link 1.
      // CRC errors count at the receiver only; a degraded cable slows both ends.
      {"l1",
       {{"", "pass", "", {}},
        {"{kind: link_crc, link: 0, ber: 1e-9}", "fail", "link_errors", {{"link", 0}}},
        {"", "fail", "link_degraded", {{"link", 0}}},  // far end of slot 3's link 1
        {"{kind: link_degraded, link: 1, bandwidth_factor: 0.5}", "fail", "link_degraded", {{"link", 1}}}}},
      // Ring of two: both links join the same pair, so both ends see it down.
      {"d1",
       {{"{kind: link_down, link: 0, after: 9m}", "fail", "link_down", {{"link", 0}}},
        {"", "fail", "link_down", {{"link", 1}}}}},
      {"h1", {{"{kind: hang, after: 3m}", "fail", "hang", {}}, {"", "inconclusive", "", {}}}},
  };
}

// Rotating a compute rack moves every fault to another slot; link racks
// keep their wiring-dependent layout.
std::string lab_yaml(std::uint64_t seed, int rotation) {
  std::string racks;
  for (const Rack& rack : matrix()) {
    racks += fmt::format("  - id: {}\n    backend: sim\n    topology: ring\n    chips:\n", rack.id);
    const int n = static_cast<int>(rack.chips.size());
    for (int slot = 0; slot < n; ++slot) {
      const int index = rack.id == "c1" ? (slot + rotation) % n : slot;
      const Planted& p = rack.chips[static_cast<std::size_t>(index)];
      racks += fmt::format("      - {{slot: {}, serial: {}-{}, sku: trn2-sim{}}}\n", slot, rack.id, index,
                           p.fault.empty() ? "" : fmt::format(", faults: [{}]", p.fault));
    }
  }
  return fmt::format("lab: matrix\nseed: {}\ntime_scale: 600\nracks:\n{}", seed, racks);
}

struct MatrixCase {
  std::uint64_t seed;
  int rotation;
};
// Readable test names in ctest: "seed 101 rotation 0".
void PrintTo(const MatrixCase& c, std::ostream* os) { *os << "seed " << c.seed << " rotation " << c.rotation; }

class FaultMatrix : public ::testing::TestWithParam<MatrixCase> {};

TEST_P(FaultMatrix, StandardPlanCatchesEveryFaultWhereItIsAndPassesEveryHealthyChip) {
  const MatrixCase param = GetParam();
  LabFixture lab;
  lab.start(lab_yaml(param.seed, param.rotation));
  lab.wait_for_racks(matrix().size());
  const auto run_id = lab.submit(standard_plan());
  const Json run = Json::parse(lab.wait_for_run(run_id, std::chrono::seconds(1400)));
  ASSERT_EQ(run["status"], "completed") << run.dump(2);
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));

  std::size_t checked = 0;
  for (const Rack& rack : matrix()) {
    for (std::size_t index = 0; index < rack.chips.size(); ++index) {
      const Planted& p = rack.chips[index];
      const std::string serial = fmt::format("{}-{}", rack.id, index);
      SCOPED_TRACE(serial + " " + (p.fault.empty() ? "healthy" : p.fault));
      const Json* chip = nullptr;
      for (const auto& c : report["chips"]) {
        if (c["serial"] == serial) chip = &c;
      }
      ASSERT_NE(chip, nullptr);
      ++checked;
      EXPECT_EQ((*chip)["verdict"], p.verdict) << chip->dump(2);
      if (p.cls.empty()) continue;
      bool found = false;
      for (const auto& f : (*chip)["failures"]) {
        if (f["class"] != p.cls) continue;
        bool here = true;
        for (const auto& [key, value] : p.at) here = here && f.contains(key) && f[key] == value;
        found = found || here;
      }
      EXPECT_TRUE(found) << "no " << p.cls << " failure at the planted location: " << chip->dump(2);
    }
  }
  EXPECT_EQ(checked, report["chips"].size());
}

INSTANTIATE_TEST_SUITE_P(SeedsAndPlacements, FaultMatrix, ::testing::Values(MatrixCase{101, 0}, MatrixCase{202, 3}));

}  // namespace
}  // namespace kiln::testing
