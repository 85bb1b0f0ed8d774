#include "agents/abft.hpp"

#include <cmath>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "device/number_format.hpp"
#include "tile_maker.hpp"

namespace kiln::agent {
namespace {

using device::DataKind;
using device::DType;
using testing::element;
using testing::make_tile;
using testing::TileShape;

// The demo lab's chip: trn2-sim has 8 cores of 128×128 PEs; the simulator's
// tile depth is 16.
const TileShape kTrn2{128, 128, 8, 16};

const char* data_name(DataKind kind) {
  switch (kind) {
    case DataKind::random: return "random";
    case DataKind::ones: return "ones";
    case DataKind::max_toggle: return "max_toggle";
  }
  return "?";
}

class AbftCleanTest : public ::testing::TestWithParam<std::tuple<int, DType, DataKind>> {};

TEST_P(AbftCleanTest, NoFindingOnCleanData) {
  const auto [depth, dtype, data] = GetParam();
  const TileShape shape{32, 32, 4, depth};
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const device::GemmTile tile = make_tile(shape, dtype, data, seed);
    auto report = verify_abft(tile);
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->findings.empty());
    EXPECT_EQ(report->bad_rows, 0) << "depth " << depth << " " << device::to_string(dtype) << " " << data_name(data);
    EXPECT_EQ(report->bad_cols, 0) << "depth " << depth << " " << device::to_string(dtype) << " " << data_name(data);
    EXPECT_FALSE(report->unlocalized);
    EXPECT_TRUE(report->clean());
    if (data != DataKind::random) break;  // the other kinds do not depend on the seed
  }
}

INSTANTIATE_TEST_SUITE_P(Depths, AbftCleanTest,
                         ::testing::Combine(::testing::Values(1, 16, 127, 1024, 4096),
                                            ::testing::Values(DType::fp32, DType::bf16, DType::fp16, DType::fp8),
                                            ::testing::Values(DataKind::random, DataKind::ones, DataKind::max_toggle)));

TEST(AbftTest, CleanSimulatorSizedTile) {
  for (DataKind data : {DataKind::random, DataKind::ones, DataKind::max_toggle}) {
    const device::GemmTile tile = make_tile(kTrn2, DType::bf16, data, 7);
    auto report = verify_abft(tile);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->clean()) << data_name(data);
    EXPECT_EQ(report->bad_rows + report->bad_cols, 0) << data_name(data);
  }
}

// Flips `bit` of the element PE (pe_row, pe_col) of `core` computed and
// expects exactly that finding.
void expect_found(device::GemmTile tile, int core, int pe_row, int pe_col, int bit) {
  const int col = core * tile.pe_cols + pe_col;
  float& x = element(tile, pe_row, col);
  const float before = x;
  x = device::flip_bit(x, bit);
  auto report = verify_abft(tile);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 1u) << "bit " << bit << " of " << before;
  const AbftFinding& f = report->findings[0];
  EXPECT_EQ(f.core, core);
  EXPECT_EQ(f.pe_row, pe_row);
  EXPECT_EQ(f.pe_col, pe_col);
  EXPECT_EQ(f.bit, bit);
  EXPECT_EQ(f.row, pe_row);
  EXPECT_EQ(f.col, col);
  EXPECT_EQ(device::float_bits(f.expected), device::float_bits(before));
  EXPECT_FALSE(report->unlocalized);
}

TEST(AbftTest, FindsBit22AtTheDemoFaultLocation) {
  // A flip of the top mantissa bit moves x by a quarter to a half of |x|:
  // visible unless x itself is tiny (the column tolerance here is ~0.01).
  int checked = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, seed);
    if (std::fabs(element(tile, 12, 1 * 128 + 40)) < 0.1f) continue;
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_found(tile, 1, 12, 40, 22);
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(AbftTest, FindsExponentBit30) {
  device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, 11);
  expect_found(tile, 1, 12, 40, 30);
  expect_found(tile, 7, 127, 127, 30);
  expect_found(tile, 0, 0, 0, 30);
}

TEST(AbftTest, FindsSignBit) {
  device::GemmTile tile = make_tile(kTrn2, DType::fp16, DataKind::random, 5);
  ASSERT_GT(std::fabs(element(tile, 3, 5 * 128 + 9)), 0.25f);
  expect_found(tile, 5, 3, 9, 31);
}

TEST(AbftTest, FindsLowestMantissaBitAboveTheColumnTolerance) {
  device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, 3);
  const int row = 20, col = 2 * 128 + 77;
  const float x = element(tile, row, col);
  ASSERT_GT(std::fabs(x), 0.5f);
  // The column's tolerance, as verify_abft computes it.
  double mag = 0;
  for (int p = 0; p < tile.depth; ++p) {
    double a_abs = 0;
    for (int i = 0; i < tile.rows; ++i) a_abs += std::fabs(tile.a[static_cast<std::size_t>(i * tile.depth + p)]);
    mag += a_abs * std::fabs(tile.b[static_cast<std::size_t>(p * tile.cols + col)]);
  }
  const double tol = abft_tolerance(tile.depth, tile.rows, mag, products_are_exact(tile));
  // The lowest mantissa bit whose flip moves x by more than twice that.
  int bit = 0;
  while (bit < 22 && std::fabs(static_cast<double>(device::flip_bit(x, bit)) - x) <= 2 * tol) ++bit;
  ASSERT_LT(bit, 22) << "tolerance " << tol;
  ASSERT_LE(bit, 20) << "expected a low mantissa bit to be detectable, tolerance " << tol;
  expect_found(tile, 2, row, 77, bit);
}

TEST(AbftTest, FlipBelowToleranceIsNeverMislocated) {
  device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, 3);
  float& x = element(tile, 20, 300);
  x = device::flip_bit(x, 0);
  auto report = verify_abft(tile);
  ASSERT_TRUE(report.ok());
  // Too small for the checksums to see; if they did, the location is exact.
  for (const auto& f : report->findings) {
    EXPECT_EQ(f.row, 20);
    EXPECT_EQ(f.col, 300);
    EXPECT_EQ(f.bit, 0);
  }
}

TEST(AbftTest, FindsTwoCorruptionsInDifferentRowsAndColumns) {
  device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, 11);
  element(tile, 12, 168) = device::flip_bit(element(tile, 12, 168), 30);
  element(tile, 100, 900) = device::flip_bit(element(tile, 100, 900), 30);
  auto report = verify_abft(tile);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 2u);
  EXPECT_EQ(report->findings[0].row, 12);
  EXPECT_EQ(report->findings[0].col, 168);
  EXPECT_EQ(report->findings[0].core, 1);
  EXPECT_EQ(report->findings[0].pe_col, 40);
  EXPECT_EQ(report->findings[1].row, 100);
  EXPECT_EQ(report->findings[1].col, 900);
  EXPECT_EQ(report->findings[1].core, 7);
  EXPECT_EQ(report->findings[1].pe_col, 900 % 128);
  EXPECT_FALSE(report->unlocalized);
  // Rows 12 and 100 crossed with columns 168 and 900 gives two decoys,
  // which the exact recompute rejects.
  EXPECT_EQ(report->bad_rows, 2);
  EXPECT_EQ(report->bad_cols, 2);
}

TEST(AbftTest, FindsTwoCorruptionsInOneColumn) {
  device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, 11);
  element(tile, 12, 168) = device::flip_bit(element(tile, 12, 168), 30);
  element(tile, 77, 168) = device::flip_bit(element(tile, 77, 168), 30);
  auto report = verify_abft(tile);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->findings.size(), 2u);
  EXPECT_EQ(report->findings[0].row, 12);
  EXPECT_EQ(report->findings[1].row, 77);
}

TEST(AbftTest, UnlocalizedWhenTheRecomputeBudgetRunsOut) {
  device::GemmTile tile = make_tile(kTrn2, DType::bf16, DataKind::random, 11);
  element(tile, 12, 168) = device::flip_bit(element(tile, 12, 168), 30);
  auto report = verify_abft(tile, /*recompute_budget=*/0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->findings.empty());
  EXPECT_TRUE(report->unlocalized);
  EXPECT_FALSE(report->clean());
}

TEST(AbftTest, OverflowingSumsAreClearedNotReported) {
  // Products beyond fp32's range make C infinite on a healthy chip; the
  // checksums cannot vouch for such lines, the exact recompute can.
  device::GemmTile tile = make_tile({4, 4, 2, 8}, DType::fp32, DataKind::ones);
  for (float& x : tile.a) x = 3e30f;
  for (float& x : tile.b) x = 3e30f;
  device::compute_gemm_tile(tile);
  ASSERT_TRUE(std::isinf(tile.c[0]));
  auto report = verify_abft(tile);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->findings.empty());
  EXPECT_FALSE(report->unlocalized);
  EXPECT_GT(report->cleared, 0);
  EXPECT_TRUE(report->clean());
}

TEST(AbftTest, RecomputeMatchesTheDeviceReference) {
  const device::GemmTile tile = make_tile({8, 8, 2, 300}, DType::fp32, DataKind::random, 9);
  for (int i = 0; i < tile.rows; ++i) {
    for (int j = 0; j < tile.cols; ++j) {
      EXPECT_EQ(device::float_bits(recompute_element(tile, i, j)),
                device::float_bits(device::tile_reference_element(tile, i, j)));
    }
  }
}

TEST(AbftTest, RejectsMalformedTiles) {
  device::GemmTile tile = make_tile({4, 4, 2, 8}, DType::bf16, DataKind::random);
  tile.c.pop_back();
  EXPECT_FALSE(verify_abft(tile).ok());
  device::GemmTile empty;
  EXPECT_FALSE(verify_abft(empty).ok());
  device::GemmTile nan_input = make_tile({4, 4, 2, 8}, DType::bf16, DataKind::random);
  nan_input.a[3] = std::nanf("");
  EXPECT_FALSE(verify_abft(nan_input).ok());
}

}  // namespace
}  // namespace kiln::agent
