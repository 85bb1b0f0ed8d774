#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "device/lab.hpp"
#include "tests/device/test_support.hpp"

namespace kiln::device {
namespace {

using test::has_error_at;
using test::load_lab_text;
using test::position_of;

TEST(Lab, DemoLabLoadsAsDescribed) {
  auto lab = load_lab_file(test::source_path("device/labs/demo.yaml"), test::shipped_catalog());
  ASSERT_TRUE(lab) << lab.error().message;
  EXPECT_EQ(lab->name, "demo");
  EXPECT_EQ(lab->seed, 42u);
  EXPECT_EQ(lab->time_scale, 10);
  EXPECT_EQ(lab->ambient_c, 25);
  EXPECT_EQ(lab->source_path, test::source_path("device/labs/demo.yaml"));
  ASSERT_EQ(lab->racks.size(), 2u);

  const RackSpec* r01 = lab->find_rack("r01");
  ASSERT_NE(r01, nullptr);
  EXPECT_EQ(r01->backend, Backend::sim);
  EXPECT_EQ(r01->topology, Topology::ring);
  ASSERT_EQ(r01->chips.size(), 8u);
  EXPECT_EQ(r01->chips[0].serial, "R01-00");
  EXPECT_EQ(r01->chips[7].serial, "R01-07");
  EXPECT_EQ(r01->chips[7].slot, 7u);
  EXPECT_EQ(r01->chips[3].sku, "trn2-sim");

  const RackSpec* r02 = lab->find_rack("r02");
  ASSERT_NE(r02, nullptr);
  ASSERT_EQ(r02->chips.size(), 8u);
  int faulty = 0;
  for (std::size_t slot = 0; slot < 8; ++slot) {
    const ChipSpec& chip = r02->chips[slot];
    EXPECT_EQ(chip.slot, slot);
    EXPECT_EQ(chip.serial, "TRN-020" + std::to_string(slot));
    faulty += chip.faults.empty() ? 0 : 1;
  }
  EXPECT_EQ(faulty, 1);
  const ChipSpec& chip = r02->chips[5];
  EXPECT_EQ(chip.serial, "TRN-0205");
  ASSERT_EQ(chip.faults.size(), 1u);
  const Fault& sdc = chip.faults[0];
  EXPECT_EQ(sdc.kind, FaultKind::sdc);
  EXPECT_EQ(sdc.core, 1);
  EXPECT_EQ(sdc.pe_row, 12);
  EXPECT_EQ(sdc.pe_col, 40);
  EXPECT_EQ(sdc.bit, 22);
  EXPECT_EQ(sdc.rate, 0.01);
  EXPECT_FALSE(sdc.above_c);
  EXPECT_FALSE(sdc.above_mhz);
  EXPECT_EQ(sdc.mark.line, 23u);
  EXPECT_EQ(lab->find_rack("r03"), nullptr);
}

TEST(Lab, CountFormDefaultsAndSerialPrefix) {
  auto load = load_lab_text(R"(lab: small
racks:
  - id: rx
    chips: {count: 3, sku: h100-sim}
  - id: ry
    topology: full
    chips: {count: 12, sku: h100-sim, serial_prefix: "H-"}
)");
  ASSERT_TRUE(load.lab) << ::testing::PrintToString(load.errors);
  EXPECT_EQ(load.lab->seed, 0u);
  EXPECT_EQ(load.lab->time_scale, 1.0);
  EXPECT_EQ(load.lab->ambient_c, 25.0);
  const RackSpec& rx = load.lab->racks[0];
  EXPECT_EQ(rx.backend, Backend::sim);
  EXPECT_EQ(rx.topology, Topology::ring);
  EXPECT_EQ(rx.chips[2].serial, "RX-02");
  const RackSpec& ry = load.lab->racks[1];
  EXPECT_EQ(ry.chips[11].serial, "H-11");
  EXPECT_EQ(chip_link_count(ry.topology, ry.chips.size(), test::h100()), 11);
}

TEST(Lab, UnknownKeyAtTopAndInRack) {
  const std::string text = R"(lab: t
colour: red
racks:
  - id: r01
    chips: {count: 1, sku: trn2-sim}
    flavour: sim
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  EXPECT_EQ(load.errors.size(), 2u);
  EXPECT_TRUE(has_error_at(load.errors, "2:1", "lab: unknown key 'colour'"));
  EXPECT_TRUE(has_error_at(load.errors, "6:5", "racks[0]: unknown key 'flavour'"));
}

TEST(Lab, DuplicateRackId) {
  const std::string text = R"(lab: t
racks:
  - id: r01
    chips: {count: 1, sku: trn2-sim, serial_prefix: A}
  - id: r01
    chips: {count: 1, sku: trn2-sim, serial_prefix: B}
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, "5:9", "duplicate rack 'r01' (already defined at line 3, column 9)"));
}

TEST(Lab, DuplicateSerialAcrossRacks) {
  const std::string text = R"(lab: t
racks:
  - id: r01
    chips:
      - {slot: 0, serial: TRN-1, sku: trn2-sim}
  - id: r02
    chips:
      - {slot: 0, serial: TRN-2, sku: trn2-sim}
      - {slot: 1, serial: TRN-1, sku: trn2-sim}
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "TRN-1", 1), "duplicate serial 'TRN-1'"));
  EXPECT_EQ(position_of(text, "TRN-1", 1), "9:27");
}

TEST(Lab, CountFormSerialsClashWithListedSerials) {
  const std::string text = R"(lab: t
racks:
  - id: r01
    chips: {count: 2, sku: trn2-sim, serial_prefix: "X-"}
  - id: r02
    chips:
      - {slot: 0, serial: X-01, sku: trn2-sim}
)";
  const auto load = load_lab_text(text);
  EXPECT_TRUE(has_error_at(load.errors, position_of(text, "X-01"), "duplicate serial 'X-01'"));
}

// Found by the lab fuzz target: a long serial_prefix made serials of more
// than the 64 characters a listed serial may have.
TEST(Lab, CountFormSerialsAreAtMost64Characters) {
  const std::string prefix(62, 'p');
  const std::string text =
      "lab: t\nracks:\n  - id: r01\n    chips: {count: 100, sku: trn2-sim, serial_prefix: " + prefix + "}\n";
  EXPECT_TRUE(load_lab_text(text).errors.empty());  // 62 + 2 digits fit
  const std::string longer =
      "lab: t\nracks:\n  - id: r01\n    chips: {count: 100, sku: trn2-sim, serial_prefix: " + prefix + "q}\n";
  const auto refused = load_lab_text(longer);
  EXPECT_TRUE(has_error_at(refused.errors, position_of(longer, prefix + "q"),
                           "serials such as '" + prefix + "q99' would be 65 characters, more than 64"));
}

TEST(Lab, DuplicateSlotInOneRack) {
  const std::string text = R"(lab: t
racks:
  - id: r01
    chips:
      - {slot: 3, serial: A, sku: trn2-sim}
      - {slot: 3, serial: B, sku: trn2-sim}
)";
  EXPECT_TRUE(has_error_at(load_lab_text(text).errors, "6:16", "duplicate slot 3 in rack 'r01'"));
}

TEST(Lab, UnknownSku) {
  const std::string text = R"(lab: t
racks:
  - id: r01
    chips:
      - {slot: 0, serial: A, sku: tpu-v9}
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(load.errors, "5:35", "unknown SKU 'tpu-v9' (known: h100-sim, trn2-sim)"));
}

TEST(Lab, TimeScaleMustBePositiveAndAtMost600) {
  const auto with_scale = [](std::string_view scale) {
    return "lab: t\ntime_scale: " + std::string(scale) + "\nracks:\n  - {id: r, chips: {count: 1, sku: trn2-sim}}\n";
  };
  const auto zero = load_lab_text(with_scale("0"));
  EXPECT_FALSE(zero.lab);
  ASSERT_EQ(zero.errors.size(), 1u);
  EXPECT_TRUE(has_error_at(zero.errors, "2:13", "lab.time_scale: 0 is out of range (0, 600]"));
  EXPECT_FALSE(load_lab_text(with_scale("601")).lab);
  EXPECT_FALSE(load_lab_text(with_scale("fast")).lab);
  EXPECT_TRUE(load_lab_text(with_scale("600")).lab);
  EXPECT_TRUE(load_lab_text(with_scale("0.5")).lab);
}

TEST(Lab, TimeScaleUnpacedRunsAsFastAsTheHostAllows) {
  const auto with_scale = [](std::string_view scale) {
    return "lab: t\ntime_scale: " + std::string(scale) + "\nracks:\n  - {id: r, chips: {count: 1, sku: trn2-sim}}\n";
  };
  const auto unpaced = load_lab_text(with_scale("unpaced"));
  ASSERT_TRUE(unpaced.lab);
  EXPECT_TRUE(unpaced.lab->unpaced);
  EXPECT_EQ(unpaced.lab->time_scale, 1.0);  // never 0: whoever divides by it stays safe
  EXPECT_FALSE(load_lab_text(with_scale("60")).lab->unpaced);
  // Only the bare word: a quoted one is a string where a number belongs.
  const auto quoted = load_lab_text(with_scale("'unpaced'"));
  EXPECT_FALSE(quoted.lab);
  const auto other = load_lab_text(with_scale("fastest"));
  EXPECT_FALSE(other.lab);
  ASSERT_EQ(other.errors.size(), 1u);
  EXPECT_NE(other.errors[0].find("lab.time_scale"), std::string::npos) << other.errors[0];
}

TEST(Lab, BackendsTopologiesAndRealRacks) {
  const std::string text = R"(lab: t
racks:
  - {id: host, backend: cpu}
  - {id: gpus, backend: cuda, topology: full}
  - {id: bad, backend: tpu, topology: mesh, chips: {count: 1, sku: trn2-sim}}
  - {id: cpu2, backend: cpu, chips: {count: 1, sku: trn2-sim}}
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  EXPECT_EQ(load.errors.size(), 3u) << ::testing::PrintToString(load.errors);
  EXPECT_TRUE(has_error_at(load.errors, "5:24", "unknown backend 'tpu'"));
  EXPECT_TRUE(has_error_at(load.errors, "5:39", "unknown topology 'mesh'"));
  EXPECT_TRUE(has_error_at(load.errors, "6:37", "only sim racks list their chips"));

  const auto ok = load_lab_text("lab: t\nracks:\n  - {id: host, backend: cpu}\n");
  ASSERT_TRUE(ok.lab) << ::testing::PrintToString(ok.errors);
  EXPECT_EQ(ok.lab->racks[0].backend, Backend::cpu);
  EXPECT_TRUE(ok.lab->racks[0].chips.empty());
  EXPECT_EQ(ok.lab->racks[0].cpu_chips, 1);

  const auto split = load_lab_text("lab: t\nracks:\n  - {id: host, backend: cpu, cpu_chips: 2}\n");
  ASSERT_TRUE(split.lab) << ::testing::PrintToString(split.errors);
  EXPECT_EQ(split.lab->racks[0].cpu_chips, 2);
  const auto zero = load_lab_text("lab: t\nracks:\n  - {id: host, backend: cpu, cpu_chips: 0}\n");
  EXPECT_FALSE(zero.lab);
  const auto on_sim =
      load_lab_text("lab: t\nracks:\n  - {id: r, backend: sim, cpu_chips: 2, chips: {count: 1, sku: trn2-sim}}\n");
  EXPECT_TRUE(has_error_at(on_sim.errors, "3:38", "only cpu racks split the host into chips"))
      << ::testing::PrintToString(on_sim.errors);
}

TEST(Lab, SimRackNeedsChipsAndLabNeedsRacks) {
  EXPECT_TRUE(
      has_error_at(load_lab_text("lab: t\nracks:\n  - {id: r}\n").errors, "3:5", "missing required key 'chips'"));
  EXPECT_TRUE(has_error_at(load_lab_text("lab: t\nracks: []\n").errors, "2:8", "non-empty list of racks"));
  EXPECT_TRUE(has_error_at(load_lab_text("seed: 1\nracks: []\n").errors, "1:1", "missing required key 'lab'"));
}

TEST(Lab, EveryErrorOfAFileIsReportedAtOnce) {
  const std::string text = R"(lab: t
time_scale: 0
ambient_c: 200
racks:
  - id: r01
    chips:
      - {slot: 0, serial: A, sku: nope}
      - {slot: 1, serial: B, sku: trn2-sim, faults: [{kind: sdc, core: 99}, {kind: hang, after: 5}]}
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  EXPECT_EQ(load.errors.size(), 5u) << ::testing::PrintToString(load.errors);
}

TEST(Lab, FileLoaderNamesTheFileAndCapsItsSize) {
  const auto dir = std::filesystem::temp_directory_path() / "kiln_lab_test";
  std::filesystem::create_directories(dir);
  const auto bad = (dir / "bad.yaml").string();
  std::ofstream(bad) << "lab: t\nracks:\n  - {id: r, chips: {count: 1, sku: trn2-sim}, x: 1}\n";
  auto loaded = load_lab_file(bad, test::shipped_catalog());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ErrorCode::parse);
  EXPECT_EQ(loaded.error().message.rfind(bad + ":3:47: racks[0]: unknown key 'x'", 0), 0u) << loaded.error().message;

  const auto big = (dir / "big.yaml").string();
  {
    std::ofstream out(big);
    out << "lab: t\n";
    out << std::string(1 << 20, '#') << "\n";
  }
  loaded = load_lab_file(big, test::shipped_catalog());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("larger than the 1048576 byte limit"), std::string::npos);

  EXPECT_EQ(load_lab_file((dir / "missing.yaml").string(), test::shipped_catalog()).error().code, ErrorCode::not_found);
  std::filesystem::remove_all(dir);
}

TEST(Lab, TopologyLinkCounts) {
  EXPECT_EQ(topology_link_count(Topology::ring, 8), 2);
  EXPECT_EQ(topology_link_count(Topology::torus2d, 16), 4);
  EXPECT_EQ(topology_link_count(Topology::full, 8), 7);
  EXPECT_EQ(topology_link_count(Topology::full, 1), 0);
  EXPECT_EQ(chip_link_count(Topology::full, 8, test::trn2()), 4);  // capped by the SKU's 4 NeuronLinks
  EXPECT_EQ(chip_link_count(Topology::ring, 8, test::trn2()), 2);
}

TEST(Lab, EnumNamesRoundTrip) {
  for (const auto b : {Backend::sim, Backend::cpu, Backend::cuda}) EXPECT_EQ(parse_backend(to_string(b)), b);
  for (const auto t : {Topology::ring, Topology::torus2d, Topology::full}) EXPECT_EQ(parse_topology(to_string(t)), t);
  for (int i = 0; i <= static_cast<int>(FaultKind::hang); ++i) {
    const auto kind = static_cast<FaultKind>(i);
    EXPECT_EQ(parse_fault_kind(to_string(kind)), kind);
  }
  EXPECT_FALSE(parse_fault_kind("meltdown"));
}

}  // namespace
}  // namespace kiln::device

namespace kiln::device {
namespace {

TEST(Lab, AFullMeshTheSkuCannotCableIsRefusedAtTheTopology) {
  // Regression: 6 four-link trn2-sim chips in a full mesh were accepted and only partly wired.
  const std::string text = R"(lab: t
racks:
  - id: r01
    topology: full
    chips: {count: 6, sku: trn2-sim}
)";
  const auto load = load_lab_text(text);
  EXPECT_FALSE(load.lab);
  ASSERT_EQ(load.errors.size(), 1u) << ::testing::PrintToString(load.errors);
  EXPECT_TRUE(has_error_at(load.errors, "4:15",
                           "racks[0].topology: full of 6 chips needs 5 links per chip, but SKU trn2-sim has 4; a full "
                           "mesh of 4-link chips has at most 5 chips, or use ring"))
      << ::testing::PrintToString(load.errors);
  // Five of them can be cabled all to all.
  EXPECT_TRUE(load_lab_text("lab: t\nracks:\n  - {id: r01, topology: full, chips: {count: 5, sku: trn2-sim}}\n").lab);
}

}  // namespace
}  // namespace kiln::device
