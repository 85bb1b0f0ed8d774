// The simulated chip as an agent sees it: made from a lab, its telemetry,
// its throughput, and bit-for-bit determinism.

#include <gtest/gtest.h>

#include "device/sim/compute_model.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::big_gemm;
using test::chip_config;
using test::same_bits;
using test::sdc_fault;

Lab demo_lab() {
  auto lab = load_lab_file(test::source_path("device/labs/demo.yaml"), test::shipped_catalog());
  EXPECT_TRUE(lab) << lab.error().message;
  return lab ? *lab : Lab{};
}

TEST(SimChipFactory, MakesOneChipPerSlotOfASimRack) {
  const Lab lab = demo_lab();
  auto chips = make_sim_chips(lab, *lab.find_rack("r02"), test::shipped_catalog());
  ASSERT_TRUE(chips) << chips.error().message;
  ASSERT_EQ(chips->size(), 8u);
  const Chip& faulty = *(*chips)[5];
  EXPECT_EQ(faulty.identity().serial, "TRN-0205");
  EXPECT_EQ(faulty.identity().rack, "r02");
  EXPECT_EQ(faulty.identity().slot, 5u);
  EXPECT_EQ(faulty.identity().sku, "trn2-sim");
  EXPECT_EQ(faulty.sku().cores, 8);
  EXPECT_EQ(faulty.now(), Seconds{0});
  EXPECT_FALSE(faulty.hung());
  EXPECT_EQ(faulty.telemetry().links.size(), 2u);  // ring

  auto r01 = make_sim_chips(lab, *lab.find_rack("r01"), test::shipped_catalog());
  ASSERT_TRUE(r01);
  EXPECT_EQ((*r01)[7]->identity().serial, "R01-07");
}

TEST(SimChipFactory, TheDemoFaultShowsUpOnlyOnItsChip) {
  const Lab lab = demo_lab();
  auto chips = make_sim_chips(lab, *lab.find_rack("r02"), test::shipped_catalog());
  ASSERT_TRUE(chips);
  for (auto& chip : *chips) {
    chip->start_run(1);
    for (int i = 0; i < 60; ++i) (void)chip->run_gemm(big_gemm(DType::bf16, false), Seconds{0.1});
    const auto* sim = dynamic_cast<const SimChip*>(chip.get());
    ASSERT_NE(sim, nullptr);
    // rate 0.01 per GEMM at ≈ 55 GEMMs a slice: 1 − 0.99^55 ≈ 42% of slices are hit.
    if (chip->identity().serial == "TRN-0205") {
      EXPECT_GT(sim->injected_sdc_events(), 10u);
    } else {
      EXPECT_EQ(sim->injected_sdc_events(), 0u);
    }
  }
}

TEST(SimChipFactory, RefusesRealRacksAndUnknownSkus) {
  Lab lab;
  RackSpec cpu{"host", Backend::cpu, Topology::ring, {}};
  EXPECT_EQ(make_sim_chips(lab, cpu, test::shipped_catalog()).error().code, ErrorCode::invalid_argument);
  RackSpec odd{"r", Backend::sim, Topology::ring, {ChipSpec{0, "X", "tpu-v9", {}}}};
  auto made = make_sim_chips(lab, odd, test::shipped_catalog());
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::not_found);
  EXPECT_NE(made.error().message.find("tpu-v9"), std::string::npos);
}

TEST(SimChip, IdleTelemetry) {
  SimChip chip(chip_config(test::trn2()));
  const Telemetry t = chip.telemetry();
  EXPECT_EQ(t.temperature_c, 25.0);
  EXPECT_EQ(t.hbm_temperature_c, 25.0);
  EXPECT_EQ(t.power_w, 90.0);
  EXPECT_EQ(t.clock_mhz, 2400.0);
  EXPECT_EQ(t.voltage_mv, 750.0);
  EXPECT_EQ(t.utilization, 0.0);
  EXPECT_EQ(t.throttled, false);
  EXPECT_EQ(t.hbm_ce, 0.0);
  EXPECT_EQ(t.hbm_ue, 0.0);
  ASSERT_EQ(t.links.size(), 2u);
  for (const auto& link : t.links) {
    EXPECT_EQ(link.up, true);
    EXPECT_EQ(link.gbps, 0.0);
    EXPECT_EQ(link.crc_errors, 0.0);
  }
}

TEST(SimChip, GemmThroughputPowerAndUtilization) {
  const Sku& sku = test::trn2();
  SimChip chip(chip_config(sku));
  const auto slice = chip.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1});
  EXPECT_EQ(slice.elapsed, Seconds{0.1});
  const double fraction_of_peak = slice.flops / (667e12 * 0.1);
  EXPECT_GT(fraction_of_peak, 0.88);
  EXPECT_LT(fraction_of_peak, 0.92);
  EXPECT_DOUBLE_EQ(slice.gemms, slice.flops / (2.0 * 8192.0 * 8192.0 * 8192.0));
  EXPECT_DOUBLE_EQ(chip.now().count(), 0.1);
  const Telemetry t = chip.telemetry();
  EXPECT_EQ(t.utilization, 1.0);
  EXPECT_DOUBLE_EQ(t.power_w.value(), 90.0 + 410.0 * 0.95);  // bf16 activity
  EXPECT_GT(t.temperature_c.value(), 25.0);

  GemmWork fp8 = big_gemm(DType::fp8, false);
  EXPECT_NEAR(chip.run_gemm(fp8, Seconds{0.1}).flops / slice.flops, 1299.0 / 667.0, 1e-9);
}

TEST(SimChip, SmallAndOddShapesAreLessEfficient) {
  const Sku& sku = test::trn2();
  const double square = shape_efficiency(sku, DType::bf16, 8192, 8192, 8192);
  EXPECT_NEAR(square, 0.9, 0.01);
  EXPECT_LT(shape_efficiency(sku, DType::bf16, 8192, 8192 + 1, 8192), square);  // a padded tile column
  EXPECT_LT(shape_efficiency(sku, DType::bf16, 256, 256, 256), 0.7 * square);
  EXPECT_LT(shape_efficiency(sku, DType::bf16, 8192, 8192, 64), 0.5 * square);  // thin: HBM bound
  EXPECT_EQ(shape_efficiency(sku, DType::bf16, 0, 8192, 8192), 0.0);
}

TEST(SimChip, UnsupportedDtypeDoesNoWork) {
  Sku sku = test::trn2();
  sku.peak_tflops.erase(DType::fp32);
  SimChip chip(chip_config(sku));
  const auto slice = chip.run_gemm(big_gemm(DType::fp32), Seconds{0.1});
  EXPECT_EQ(slice.flops, 0.0);
  EXPECT_FALSE(slice.tile);
  EXPECT_EQ(chip.telemetry().utilization, 0.0);
}

TEST(SimChip, SlowFaultScalesThroughput) {
  Fault slow;
  slow.kind = FaultKind::slow;
  slow.factor = 0.5;
  SimChip healthy(chip_config(test::trn2()));
  SimChip binned(chip_config(test::trn2(), {slow}));
  const double a = healthy.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1}).flops;
  const double b = binned.run_gemm(big_gemm(DType::bf16, false), Seconds{0.1}).flops;
  EXPECT_DOUBLE_EQ(b, 0.5 * a);
}

TEST(SimChip, NewRunRestartsTimeButKeepsTheHeat) {
  SimChip chip(chip_config(test::trn2()));
  test::run_for(chip, big_gemm(DType::fp8, false), 30);
  const double hot = chip.telemetry().temperature_c.value();
  chip.start_run(5);
  EXPECT_EQ(chip.now(), Seconds{0});
  EXPECT_EQ(chip.telemetry().temperature_c, hot);
}

// Everything an agent can observe of one slice, compared bit for bit.
void expect_identical(const GemmSlice& x, const GemmSlice& y, const Telemetry& tx, const Telemetry& ty) {
  ASSERT_EQ(x.flops, y.flops);
  ASSERT_EQ(x.gemms, y.gemms);
  ASSERT_EQ(x.tile != nullptr, y.tile != nullptr);
  if (x.tile) {
    ASSERT_TRUE(same_bits(x.tile->a, y.tile->a));
    ASSERT_TRUE(same_bits(x.tile->b, y.tile->b));
    ASSERT_TRUE(same_bits(x.tile->c, y.tile->c));
  }
  ASSERT_EQ(tx.temperature_c, ty.temperature_c);
  ASSERT_EQ(tx.hbm_temperature_c, ty.hbm_temperature_c);
  ASSERT_EQ(tx.power_w, ty.power_w);
  ASSERT_EQ(tx.clock_mhz, ty.clock_mhz);
  ASSERT_EQ(tx.throttled, ty.throttled);
  ASSERT_EQ(tx.utilization, ty.utilization);
  ASSERT_EQ(tx.hbm_ce, ty.hbm_ce);
}

TEST(SimChip, SameSeedsGiveIdenticalTelemetryAndTilesForAThousandSlices) {
  // Also the regression guard for time-scale independence: the model only
  // ever sees the dt it is given, so equal inputs must give equal bits.
  Fault ce;
  ce.kind = FaultKind::hbm_ce;
  ce.rate_per_hour = 3600;
  // h100-sim: its 16 × 2112 tile is a quarter of trn2-sim's, which keeps
  // this test quick under sanitizers.
  const std::vector<Fault> faults = {sdc_fault(0.01, 1, 12, 4), ce};
  SimChip first(chip_config(test::h100(), faults, "H100-0005"));
  SimChip second(chip_config(test::h100(), faults, "H100-0005"));
  SimChip other_run(chip_config(test::h100(), faults, "H100-0005"));
  first.start_run(7);
  second.start_run(7);
  other_run.start_run(8);
  int differing_tiles = 0;
  std::shared_ptr<const GemmTile> second_kept;
  for (int i = 0; i < 1000; ++i) {
    // Mixed work, as a plan would give: data kinds, dtypes and idle gaps.
    const DType dtype = i % 3 == 0 ? DType::fp8 : DType::bf16;
    const DataKind data = i % 5 == 0 ? DataKind::max_toggle : DataKind::random;
    if (i % 50 == 49) {
      first.idle(Seconds{0.5});
      second.idle(Seconds{0.5});
      other_run.idle(Seconds{0.5});
      continue;
    }
    auto x = first.run_gemm(big_gemm(dtype, true, data), Seconds{0.1});
    const auto y = second.run_gemm(big_gemm(dtype, true, data), Seconds{0.1});
    const auto z = other_run.run_gemm(big_gemm(dtype, true, data), Seconds{0.1});
    expect_identical(x, y, first.telemetry(), second.telemetry());
    if (HasFatalFailure()) return;
    differing_tiles += same_bits(x.tile->c, z.tile->c) ? 0 : 1;
    // Only `first` reuses its tile's storage (its slice is dropped); `second`'s
    // last tile is still held, so it makes a fresh one: reuse must not change results.
    second_kept = y.tile;
  }
  EXPECT_EQ(first.injected_sdc_events(), second.injected_sdc_events());
  EXPECT_GT(first.injected_sdc_events(), 0u);
  EXPECT_GT(first.telemetry().hbm_ce.value(), 0.0);
  // Random-data tiles of another run seed differ; max_toggle ones only where the sdc draws differ.
  EXPECT_GT(differing_tiles, 700);
}

TEST(SimChip, DifferentSerialsGetDifferentData) {
  SimChip a(chip_config(test::h100(), {}, "A"));
  SimChip b(chip_config(test::h100(), {}, "B"));
  EXPECT_FALSE(same_bits(a.run_gemm(big_gemm(), Seconds{0.1}).tile->a, b.run_gemm(big_gemm(), Seconds{0.1}).tile->a));
}

}  // namespace
}  // namespace kiln::device
