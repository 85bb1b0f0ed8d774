// Fault entries of a lab file: every kind, its fields, defaults and ranges
// checked against the chip's SKU and its rack's topology.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "device/lab.hpp"
#include "tests/device/test_support.hpp"

namespace kiln::device {
namespace {

using test::has_error_at;
using test::load_lab_text;
using test::position_of;

// A one-chip-of-interest lab: rack r01 with `topology`, chip F-1 of `sku`
// carrying `faults` (a flow list), plus two healthy neighbours.
std::string lab_with_faults(std::string_view faults, std::string_view topology = "ring",
                            std::string_view sku = "trn2-sim") {
  return "lab: t\nracks:\n  - id: r01\n    topology: " + std::string(topology) +
         "\n    chips:\n      - {slot: 0, serial: F-0, sku: trn2-sim}\n      - {slot: 1, serial: F-1, sku: " +
         std::string(sku) + ",\n         faults: " + std::string(faults) +
         "}\n      - {slot: 2, serial: F-2, sku: trn2-sim}\n";
}

std::vector<Fault> faults_of(std::string_view faults, std::string_view topology = "ring",
                             std::string_view sku = "trn2-sim") {
  const auto load = load_lab_text(lab_with_faults(faults, topology, sku));
  EXPECT_TRUE(load.lab) << ::testing::PrintToString(load.errors);
  if (!load.lab) return {};
  return load.lab->racks[0].chips[1].faults;
}

TEST(FaultLoader, EveryKindWithItsFields) {
  const auto faults = faults_of(R"([
           {kind: sdc, core: 7, pe: [127, 0], bit: 31, rate: 1, above_c: 70, above_mhz: 2000},
           {kind: margin, fmax_offset_mhz: -150},
           {kind: slow, factor: 0.8},
           {kind: cooling, r_th_factor: 1.3},
           {kind: hbm_ce, stack: 3, channel: 15, rate_per_hour: 12},
           {kind: hbm_ue, stack: 0, channel: 2, after: 90s},
           {kind: hbm_stuck, stack: 1, channel: 4, bit: 63},
           {kind: link_crc, link: 1, ber: 1e-6},
           {kind: link_degraded, link: 0, bandwidth_factor: 0.25},
           {kind: link_down, link: 1, after: 2m},
           {kind: hang, after: 1.5h}])");
  ASSERT_EQ(faults.size(), 11u);
  EXPECT_EQ(faults[0].kind, FaultKind::sdc);
  EXPECT_EQ(faults[0].core, 7);
  EXPECT_EQ(faults[0].pe_row, 127);
  EXPECT_EQ(faults[0].pe_col, 0);
  EXPECT_EQ(faults[0].bit, 31);
  EXPECT_EQ(faults[0].rate, 1.0);
  EXPECT_EQ(faults[0].above_c, 70.0);
  EXPECT_EQ(faults[0].above_mhz, 2000.0);
  EXPECT_EQ(faults[1].fmax_offset_mhz, -150);
  EXPECT_EQ(faults[2].factor, 0.8);
  EXPECT_EQ(faults[3].r_th_factor, 1.3);
  EXPECT_EQ(faults[4].stack, 3);
  EXPECT_EQ(faults[4].channel, 15);
  EXPECT_EQ(faults[4].rate_per_hour, 12);
  EXPECT_EQ(faults[5].after, Seconds{90});
  EXPECT_EQ(faults[6].bit, 63);
  EXPECT_EQ(faults[7].link, 1);
  EXPECT_EQ(faults[7].ber, 1e-6);
  EXPECT_EQ(faults[8].bandwidth_factor, 0.25);
  EXPECT_EQ(faults[9].after, Seconds{120});
  EXPECT_EQ(faults[10].kind, FaultKind::hang);
  EXPECT_EQ(faults[10].after, Seconds{5400});
}

TEST(FaultLoader, OmittedFieldsTakeDefaults) {
  const auto faults = faults_of(
      "[{kind: sdc}, {kind: slow}, {kind: cooling}, {kind: hang}, {kind: link_down}, {kind: hbm_ce}, {kind: margin}]");
  ASSERT_EQ(faults.size(), 7u);
  EXPECT_EQ(faults[0].core, 0);
  EXPECT_EQ(faults[0].rate, 1e-3);
  EXPECT_FALSE(faults[0].above_c);
  EXPECT_FALSE(faults[0].above_mhz);
  EXPECT_EQ(faults[1].factor, 0.9);
  EXPECT_EQ(faults[2].r_th_factor, 1.5);
  EXPECT_EQ(faults[3].after, Seconds{0});  // from the run's start
  EXPECT_EQ(faults[4].after, Seconds{0});
  EXPECT_EQ(faults[4].link, 0);
  EXPECT_EQ(faults[5].rate_per_hour, 60);
  EXPECT_EQ(faults[6].fmax_offset_mhz, -100);
}

TEST(FaultLoader, FieldOfAnotherKindIsAnUnknownKey) {
  const std::string text = lab_with_faults("[{kind: sdc, core: 1, link: 1}]");
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "link: 1"),
                           "racks[0].chips[1].faults[0] (sdc): unknown key 'link' (expected one of: kind, core, pe, "
                           "bit, rate, above_c, above_mhz)"));
}

TEST(FaultLoader, UnknownOrMissingKind) {
  std::string text = lab_with_faults("[{kind: meltdown, core: 1}]");
  auto load = load_lab_text(text);
  ASSERT_EQ(load.errors.size(), 1u);  // the fields of an unknown kind are not judged
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "meltdown"), "unknown fault kind 'meltdown'"));
  text = lab_with_faults("[{core: 1}]");
  EXPECT_TRUE(has_error_at(load_lab_text(text).errors, position_of(text, "{core"), "missing required key 'kind'"));
}

TEST(FaultLoader, PeOutsideTheSystolicArray) {
  const std::string text = lab_with_faults("[{kind: sdc, pe: [12, 128]}]");
  const auto load = load_lab_text(text);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "128]"),
                           "pe: column 128 is outside the 128×128 systolic array of trn2-sim (columns 0..127)"));

  const std::string h100 = lab_with_faults("[{kind: sdc, core: 131, pe: [16, 3]}]", "ring", "h100-sim");
  EXPECT_TRUE(has_error_at(load_lab_text(h100).errors, position_of(h100, "16,"), "row 16 is outside the 16×16"));
}

TEST(FaultLoader, PeMustBeARowColumnPair) {
  for (const char* pe : {"[1]", "[1, 2, 3]", "5", "{row: 1}"}) {
    const std::string text = lab_with_faults(fmt::format("[{{kind: sdc, pe: {}}}]", pe));
    EXPECT_TRUE(has_error_at(load_lab_text(text).errors, position_of(text, "pe: ", 0, 4), "pe: expected [row, col]"))
        << pe;
  }
}

TEST(FaultLoader, CoreOutOfRange) {
  const std::string text = lab_with_faults("[{kind: sdc, core: 8}]");
  const auto load = load_lab_text(text);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "core: 8", 0, 6),
                           "core: core 8 does not exist (trn2-sim has 8 cores, 0..7)"));
  EXPECT_FALSE(load_lab_text(lab_with_faults("[{kind: sdc, core: -1}]")).lab);
}

TEST(FaultLoader, LinkIndexBeyondTheTopology) {
  // ring: 2 links per chip
  std::string text = lab_with_faults("[{kind: link_down, link: 2}]");
  auto load = load_lab_text(text);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "link: 2", 0, 6),
                           "link 2 does not exist (a chip in a ring rack has links 0 = to the next slot, 1 = to the "
                           "previous; this chip has 2 links, 0..1)"));
  // torus2d: 4
  EXPECT_TRUE(faults_of("[{kind: link_crc, link: 3}]", "torus2d").size() == 1);
  EXPECT_FALSE(load_lab_text(lab_with_faults("[{kind: link_crc, link: 4}]", "torus2d")).lab);
  // full with 3 chips: 2
  text = lab_with_faults("[{kind: link_degraded, link: 2}]", "full");
  EXPECT_TRUE(
      has_error_at(load_lab_text(text).errors, position_of(text, "link: 2", 0, 6), "one link to each other chip"));
}

TEST(FaultLoader, LinkIndexBeyondTheSkusLinks) {
  // A full mesh of 6 chips would give 5 links, but Trainium2 has 4.
  const std::string text = R"(lab: t
racks:
  - id: r01
    topology: full
    chips:
      - {slot: 0, serial: A, sku: trn2-sim, faults: [{kind: link_down, link: 4}]}
      - {slot: 1, serial: B, sku: trn2-sim}
      - {slot: 2, serial: C, sku: trn2-sim}
      - {slot: 3, serial: D, sku: trn2-sim}
      - {slot: 4, serial: E, sku: trn2-sim}
      - {slot: 5, serial: F, sku: trn2-sim}
)";
  EXPECT_TRUE(has_error_at(load_lab_text(text).errors, position_of(text, "link: 4", 0, 6),
                           "this chip has 4 links, 0..3 (its SKU trn2-sim has 4)"));
}

TEST(FaultLoader, AfterNeedsAUnit) {
  const std::string text = lab_with_faults("[{kind: hang, after: 5}]");
  const auto load = load_lab_text(text);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "after: 5", 0, 7), "missing unit"));
}

TEST(FaultLoader, RangesOfBitsRatesFactorsAndHbmLocations) {
  const struct {
    const char* fault;
    const char* at;
    const char* message;
  } cases[] = {
      {"{kind: sdc, bit: 32}", "32", "bit: 32 is out of range [0, 31]"},
      {"{kind: sdc, rate: 1.5}", "1.5", "rate: 1.5 is out of range [0, 1]"},
      {"{kind: sdc, rate: high}", "high", "expected a number"},
      {"{kind: slow, factor: 0}", "0}", "factor: 0 is out of range (0, 1]"},
      {"{kind: cooling, r_th_factor: -1}", "r_th_factor: -1", "r_th_factor: -1 is out of range (0, 100]"},
      {"{kind: hbm_ce, stack: 4}", "4}", "stack 4 does not exist (trn2-sim has 4 HBM stacks, 0..3)"},
      {"{kind: hbm_ue, channel: 16}", "16", "channel 16 does not exist (trn2-sim has 16 channels per stack, 0..15)"},
      {"{kind: hbm_stuck, bit: 64}", "64", "bit: 64 is out of range [0, 63]"},
      {"{kind: link_crc, ber: 2}", "2}", "ber: 2 is out of range [0, 1]"},
      {"{kind: link_degraded, bandwidth_factor: 1.5}", "1.5", "bandwidth_factor: 1.5 is out of range (0, 1]"},
      {"{kind: margin, fmax_offset_mhz: -9999}", "-9999", "out of range [-2400, 2400]"},
  };
  for (const auto& c : cases) {
    // fmt, not "[" + string: GCC 12 at -O3 warns falsely (-Wrestrict) on the latter.
    const std::string text = lab_with_faults(fmt::format("[{}]", c.fault));
    const auto load = load_lab_text(text);
    EXPECT_EQ(load.errors.size(), 1u) << c.fault;
    const std::string_view at = c.at;
    const std::size_t offset = at.find(": ") == std::string_view::npos ? 0 : at.find(": ") + 2;
    EXPECT_TRUE(has_error_at(load.errors, position_of(text, at, 0, offset), c.message)) << c.fault;
  }
}

TEST(FaultLoader, FaultsOfAChipWithAnUnknownSkuAreStillCheckedForTheirKind) {
  const std::string text = lab_with_faults("[{kind: sdc, core: 500, link: 1}]", "ring", "mystery");
  const auto load = load_lab_text(text);
  EXPECT_EQ(load.errors.size(), 2u) << ::testing::PrintToString(load.errors);  // unknown SKU + unknown key
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "mystery"), "unknown SKU 'mystery'"));
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "link: 1"), "unknown key 'link'"));
}

}  // namespace
}  // namespace kiln::device
