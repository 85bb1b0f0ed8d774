// The verification tile: real numbers, the contract's exact loop order, and
// sdc faults landing on exactly the element their PE computed.

#include <cmath>

#include <gtest/gtest.h>

#include "device/gemm_tile.hpp"
#include "device/number_format.hpp"
#include "tests/device/sim/sim_test_support.hpp"

namespace kiln::device {
namespace {

using test::big_gemm;
using test::chip_config;
using test::sdc_fault;

// Written independently of gemm_tile.cpp, straight from chip.hpp's contract.
float recompute(const GemmTile& t, int i, int j) {
  float sum = 0.0f;
  for (int p = 0; p < t.depth; ++p) {
    const float product =
        t.a[static_cast<std::size_t>(i * t.depth + p)] * t.b[static_cast<std::size_t>(p * t.cols + j)];
    sum = sum + product;
  }
  return sum;
}

// Elements whose bits differ from the recomputation, as (row, col).
std::vector<std::pair<int, int>> mismatches(const GemmTile& t) {
  std::vector<std::pair<int, int>> out;
  for (int i = 0; i < t.rows; ++i) {
    for (int j = 0; j < t.cols; ++j) {
      if (float_bits(t.c[static_cast<std::size_t>(i * t.cols + j)]) != float_bits(recompute(t, i, j)))
        out.emplace_back(i, j);
    }
  }
  return out;
}

TEST(GemmTile, SpansEveryPeOfEveryCoreOnce) {
  SimChip chip(chip_config(test::trn2()));
  const auto slice = chip.run_gemm(big_gemm(), Seconds{0.1});
  ASSERT_TRUE(slice.tile);
  const GemmTile& t = *slice.tile;
  EXPECT_EQ(t.pe_rows, 128);
  EXPECT_EQ(t.pe_cols, 128);
  EXPECT_EQ(t.rows, 128);
  EXPECT_EQ(t.cols, 8 * 128);
  EXPECT_EQ(t.depth, kTileMaxDepth);
  EXPECT_EQ(t.a.size(), 128u * 16);
  EXPECT_EQ(t.b.size(), 16u * 1024);
  EXPECT_EQ(t.c.size(), 128u * 1024);
  EXPECT_EQ(tile_column(t, 1, 40), 168);

  GemmWork shallow = big_gemm();
  shallow.k = 5;
  EXPECT_EQ(chip.run_gemm(shallow, Seconds{0.1}).tile->depth, 5);
  GemmWork unverified = big_gemm();
  unverified.functional = false;
  EXPECT_FALSE(chip.run_gemm(unverified, Seconds{0.1}).tile);
}

TEST(GemmTile, HealthyChipMatchesAnIndependentRecomputationInEveryElement) {
  for (const DType dtype : {DType::fp32, DType::bf16, DType::fp16, DType::fp8}) {
    for (const DataKind data : {DataKind::random, DataKind::ones, DataKind::max_toggle}) {
      SCOPED_TRACE(std::string(to_string(dtype)) + " data " + std::to_string(static_cast<int>(data)));
      SimChip chip(chip_config(test::h100()));  // 16 × 2112: every dtype and data kind stays quick
      const auto slice = chip.run_gemm(big_gemm(dtype, true, data), Seconds{0.1});
      ASSERT_TRUE(slice.tile);
      EXPECT_TRUE(mismatches(*slice.tile).empty());
      EXPECT_EQ(float_bits(tile_reference_element(*slice.tile, 3, 2000)), float_bits(recompute(*slice.tile, 3, 2000)));
    }
  }
  SimChip trn2(chip_config(test::trn2()));
  const auto slice = trn2.run_gemm(big_gemm(), Seconds{0.1});
  EXPECT_TRUE(mismatches(*slice.tile).empty());
}

TEST(GemmTile, InputsAreRoundedToTheDtype) {
  for (const DType dtype : {DType::bf16, DType::fp16, DType::fp8}) {
    SimChip chip(chip_config(test::h100()));
    const auto tile = *chip.run_gemm(big_gemm(dtype), Seconds{0.1}).tile;
    int distinct_from_zero = 0;
    for (const float x : tile.a) {
      ASSERT_EQ(round_to_dtype(x, dtype), x) << to_string(dtype);
      ASSERT_GE(x, -1.0f);
      ASSERT_LE(x, 1.0f);
      distinct_from_zero += x != 0.0f ? 1 : 0;
    }
    EXPECT_GT(distinct_from_zero, static_cast<int>(tile.a.size()) * 9 / 10);
  }
  SimChip chip(chip_config(test::h100()));
  const auto bf16 = chip.run_gemm(big_gemm(DType::bf16), Seconds{0.1});
  for (const float x : bf16.tile->b) ASSERT_EQ(float_bits(x) & 0xFFFFu, 0u);
}

TEST(GemmTile, OnesAndMaxToggleHaveKnownValues) {
  SimChip chip(chip_config(test::h100()));
  const auto ones = *chip.run_gemm(big_gemm(DType::bf16, true, DataKind::ones), Seconds{0.1}).tile;
  for (const float c : ones.c) ASSERT_EQ(c, 16.0f);

  const auto toggle = *chip.run_gemm(big_gemm(DType::bf16, true, DataKind::max_toggle), Seconds{0.1}).tile;
  EXPECT_EQ(toggle.a[0], 1.9921875f);  // 1.1111111b: every bf16 mantissa bit set
  EXPECT_EQ(toggle.a[1], -1.0f);       // sign set, mantissa clear
  EXPECT_EQ(toggle.b[0], -1.0f);
  EXPECT_EQ(toggle.b[1], 1.9921875f);
  const auto fp8 = *chip.run_gemm(big_gemm(DType::fp8, true, DataKind::max_toggle), Seconds{0.1}).tile;
  EXPECT_EQ(fp8.a[0], 1.875f);  // 1.111b in e4m3
}

TEST(GemmTile, SdcWithRateOneFlipsExactlyThatPesBit) {
  for (const DataKind data : {DataKind::random, DataKind::ones}) {
    SimChip chip(chip_config(test::trn2(), {sdc_fault(1.0)}));
    const auto slice = chip.run_gemm(big_gemm(DType::bf16, true, data), Seconds{0.1});
    ASSERT_TRUE(slice.tile);
    const GemmTile& t = *slice.tile;
    const auto wrong = mismatches(t);
    ASSERT_EQ(wrong.size(), 1u);
    EXPECT_EQ(wrong[0], std::make_pair(12, 1 * 128 + 40));
    const float expected = recompute(t, 12, 168);
    EXPECT_EQ(float_bits(t.c[12 * 1024 + 168]), float_bits(expected) ^ (1u << 22));
    EXPECT_EQ(chip.injected_sdc_events(), 1u);
  }
}

TEST(GemmTile, SdcWithRateZeroNeverFlips) {
  SimChip chip(chip_config(test::trn2(), {sdc_fault(0.0)}));
  for (int i = 0; i < 200; ++i) {
    const auto slice = chip.run_gemm(big_gemm(), Seconds{0.1});
    ASSERT_EQ(float_bits(slice.tile->c[12 * 1024 + 168]), float_bits(tile_reference_element(*slice.tile, 12, 168)));
    if (i % 100 == 0) {
      ASSERT_TRUE(mismatches(*slice.tile).empty());
    }
  }
  EXPECT_EQ(chip.injected_sdc_events(), 0u);
}

TEST(GemmTile, SdcRateIsPerGemmSoASliceOfManyGemmsCorruptsMoreOften) {
  // bf16 8192³ on trn2 runs ≈ 550 GEMMs/s: with rate 1e-3 a 0.1 s slice
  // corrupts with p = 1 − (1 − 1e-3)^55 ≈ 5.3%.
  SimChip chip(chip_config(test::trn2(), {sdc_fault(1e-3)}));
  GemmWork work = big_gemm();
  work.functional = false;  // the draw does not need the tile
  double gemms = 0;
  for (int i = 0; i < 4000; ++i) gemms = chip.run_gemm(work, Seconds{0.1}).gemms;
  const double p = 1.0 - std::pow(1.0 - 1e-3, gemms);
  EXPECT_NEAR(static_cast<double>(chip.injected_sdc_events()) / 4000.0, p, 5 * std::sqrt(p * (1 - p) / 4000));
}

TEST(GemmTile, AboveCGateHoldsOffTheFaultWhileCold) {
  Fault fault = sdc_fault(1.0);
  fault.above_c = 60.0;
  SimChip chip(chip_config(test::trn2(), {fault}));
  auto slice = chip.run_gemm(big_gemm(), Seconds{0.1});
  EXPECT_TRUE(mismatches(*slice.tile).empty());  // 25 °C
  GemmWork heat = big_gemm();
  heat.functional = false;
  while (chip.telemetry().temperature_c.value() <= 60.0) (void)chip.run_gemm(heat, Seconds{1.0});
  EXPECT_EQ(chip.injected_sdc_events(), 0u);
  slice = chip.run_gemm(big_gemm(), Seconds{0.1});
  EXPECT_EQ(mismatches(*slice.tile).size(), 1u);
}

TEST(GemmTile, AboveMhzGateHoldsOffTheFaultBelowThatClock) {
  Fault fault = sdc_fault(1.0);
  fault.above_mhz = 2400.0;  // trn2-sim's max clock: never strictly above
  SimChip chip(chip_config(test::trn2(), {fault}));
  EXPECT_TRUE(mismatches(*chip.run_gemm(big_gemm(), Seconds{0.1}).tile).empty());
  fault.above_mhz = 2000.0;
  SimChip fast(chip_config(test::trn2(), {fault}));
  EXPECT_EQ(mismatches(*fast.run_gemm(big_gemm(), Seconds{0.1}).tile).size(), 1u);
}

}  // namespace
}  // namespace kiln::device
