// Every fault kind of DESIGN §3, planted in one simulated lab of both
// shipped SKUs, run through the shipped standard.yaml as a lab engineer
// would: each faulty chip fails with its class and location, every healthy
// chip passes, also beside a hung chip or a dead link, which hide no other
// fault. Two seeds and two placements; each prints the summary line (found N/N,
// located N/N, false fails, healthy inconclusive).
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
// own, since a bad link involves the chip at its far end. A dead link or a
// hung chip shares its rack with other link faults, which must still be
// found (the collective re-forms round it). Racks c1 and c2
// (trn2-sim) and s1 (h100-sim) hold the SDCs that used to pass: bits far
// below ABFT's bound, gated by temperature or clock, and two faults on one
// chip.
std::vector<Rack> matrix() {
  const std::vector<std::pair<std::string, Json>> sdc_at_2_5_77{{"core", 2}, {"pe", Json::array({5, 77})}, {"bit", 24}};
  return {
      {"c1",
       {{"{kind: sdc, core: 2, pe: [5, 77], bit: 24, rate: 0.05}", "fail", "sdc", sdc_at_2_5_77},
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
      {"c2",
       {{"{kind: sdc, core: 6, pe: [127, 0], bit: 2, rate: 0.001}",
         "fail",
         "sdc",
         {{"core", 6}, {"pe", Json::array({127, 0})}, {"bit", 2}}},
        {"{kind: sdc, core: 0, pe: [64, 64], bit: 11, rate: 0.02, above_c: 72}",
         "fail",
         "sdc",
         {{"core", 0}, {"pe", Json::array({64, 64})}, {"bit", 11}}},
        // Two faults on one chip: each is reported where it is.
        {"{kind: sdc, core: 3, pe: [1, 2], bit: 0, rate: 0.01}, {kind: hbm_stuck, stack: 1, channel: 0, bit: 7}",
         "fail",
         "sdc",
         {{"core", 3}, {"pe", Json::array({1, 2})}, {"bit", 0}}},
        {"", "pass", "", {}}}},
      {"s1",
       {{"{kind: sdc, core: 131, pe: [15, 15], bit: 9, rate: 0.05}",
         "fail",
         "sdc",
         {{"core", 131}, {"pe", Json::array({15, 15})}, {"bit", 9}}},
        {"{kind: sdc, core: 7, pe: [0, 3], bit: 4, rate: 0.001, above_mhz: 1900}",
         "fail",
         "sdc",
         {{"core", 7}, {"pe", Json::array({0, 3})}, {"bit", 4}}},
        {"{kind: margin, fmax_offset_mhz: -300}", "fail", "margin", {}},
        {"", "pass", "", {}}}},
      // Ring of four: link 0 goes to the next slot, arriving on its link 1.
      // CRC errors count at the receiver only; a degraded cable slows both ends.
      {"l1",
       {{"", "pass", "", {}},
        {"{kind: link_crc, link: 0, ber: 1e-9}", "fail", "link_errors", {{"link", 0}}},
        {"", "fail", "link_degraded", {{"link", 0}}},  // far end of slot 3's link 1
        {"{kind: link_degraded, link: 1, bandwidth_factor: 0.5}", "fail", "link_degraded", {{"link", 1}}}}},
      // A dead cable and a CRC-erroring one in the same ring of four: the
      // collective re-forms round the dead one and the other is still found.
      {"d1",
       {{"{kind: link_down, link: 0, after: 9m}", "fail", "link_down", {{"link", 0}}},
        {"", "fail", "link_down", {{"link", 1}}},  // the dead cable's far end
        {"{kind: link_crc, link: 0, ber: 1e-9}", "fail", "link_errors", {{"link", 0}}},
        {"", "pass", "", {}}}},
      // A hung chip, a CRC-erroring link and a degraded cable in one ring of
      // six: the others are re-formed round the hung chip, every link fault
      // is found at its link, and the healthy chips pass.
      {"h1",
       {{"{kind: hang, after: 3m}", "fail", "hang", {}},
        {"{kind: link_crc, link: 0, ber: 1e-9}", "fail", "link_errors", {{"link", 0}}},
        {"", "pass", "", {}},
        {"{kind: link_degraded, link: 0, bandwidth_factor: 0.5}", "fail", "link_degraded", {{"link", 0}}},
        {"", "fail", "link_degraded", {{"link", 1}}},  // far end of slot 3's link 0
        {"", "pass", "", {}}}},
  };
}

// The second fault of a two-fault chip, checked besides its first.
struct Second {
  std::string serial;
  std::string cls;
  std::vector<std::pair<std::string, Json>> at;
};
std::vector<Second> second_faults() { return {{"c2-2", "memory_pattern", {{"stack", 1}, {"channel", 0}, {"bit", 7}}}}; }

std::string sku_of(const std::string& rack) { return rack == "s1" ? "h100-sim" : "trn2-sim"; }

// Rotating a compute rack moves every fault to another slot; link racks
// keep their wiring-dependent layout.
std::string lab_yaml(std::uint64_t seed, int rotation) {
  std::string racks;
  for (const Rack& rack : matrix()) {
    racks += fmt::format("  - id: {}\n    backend: sim\n    topology: ring\n    chips:\n", rack.id);
    const int n = static_cast<int>(rack.chips.size());
    for (int slot = 0; slot < n; ++slot) {
      const bool compute = rack.id == "c1" || rack.id == "c2" || rack.id == "s1";
      const int index = compute ? (slot + rotation) % n : slot;
      const Planted& p = rack.chips[static_cast<std::size_t>(index)];
      racks += fmt::format("      - {{slot: {}, serial: {}-{}, sku: {}{}}}\n", slot, rack.id, index, sku_of(rack.id),
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
  const auto run_id = lab.submit(shipped_plan("standard.yaml"));
  const Json run = Json::parse(lab.wait_for_run(run_id, std::chrono::seconds(1400)));
  ASSERT_EQ(run["status"], "completed") << run.dump(2);
  const Json report = Json::parse(lab.query(kiln::v1::Query::REPORT, run_id));

  const auto chip_of = [&](const std::string& serial) -> const Json* {
    for (const auto& c : report["chips"]) {
      if (c["serial"] == serial) return &c;
    }
    return nullptr;
  };
  const auto has_failure = [](const Json& chip, const std::string& cls,
                              const std::vector<std::pair<std::string, Json>>& at) {
    for (const auto& f : chip["failures"]) {
      if (f["class"] != cls) continue;
      bool here = true;
      for (const auto& [key, value] : at) here = here && f.contains(key) && f[key] == value;
      if (here) return true;
    }
    return false;
  };

  // The matrix's summary: a planted fault (or the far end of a planted
  // cable fault) is found when its chip fails, located when it fails with
  // the planted class at the planted place.
  std::size_t checked = 0, faults = 0, found = 0, located = 0, healthy = 0, false_fails = 0, healthy_inconclusive = 0;
  for (const Rack& rack : matrix()) {
    for (std::size_t index = 0; index < rack.chips.size(); ++index) {
      const Planted& p = rack.chips[index];
      const std::string serial = fmt::format("{}-{}", rack.id, index);
      SCOPED_TRACE(serial + " " + (p.fault.empty() ? "healthy" : p.fault));
      const Json* chip = chip_of(serial);
      ASSERT_NE(chip, nullptr);
      ++checked;
      EXPECT_EQ((*chip)["verdict"], p.verdict) << chip->dump(2);
      if (p.cls.empty()) {
        ++healthy;
        if ((*chip)["verdict"] == "fail") ++false_fails;
        if ((*chip)["verdict"] == "inconclusive") ++healthy_inconclusive;
        continue;
      }
      ++faults;
      if ((*chip)["verdict"] == "fail") ++found;
      const bool here = has_failure(*chip, p.cls, p.at);
      if (here) ++located;
      EXPECT_TRUE(here) << "no " << p.cls << " failure at the planted location: " << chip->dump(2);
    }
  }
  for (const Second& second : second_faults()) {
    SCOPED_TRACE(second.serial + " second fault");
    const Json* chip = chip_of(second.serial);
    ASSERT_NE(chip, nullptr);
    ++faults;
    if ((*chip)["verdict"] == "fail") ++found;
    const bool here = has_failure(*chip, second.cls, second.at);
    if (here) ++located;
    EXPECT_TRUE(here) << "no " << second.cls << " failure at the planted location: " << chip->dump(2);
  }
  EXPECT_EQ(checked, report["chips"].size());
  fmt::print(
      "fault matrix (seed {}, rotation {}): found {}/{}, located {}/{}, false fails {}, healthy inconclusive "
      "{} of {} healthy\n",
      param.seed, param.rotation, found, faults, located, faults, false_fails, healthy_inconclusive, healthy);
}

INSTANTIATE_TEST_SUITE_P(SeedsAndPlacements, FaultMatrix, ::testing::Values(MatrixCase{101, 0}, MatrixCase{202, 3}));

}  // namespace
}  // namespace kiln::testing
