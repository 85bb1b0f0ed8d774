#include "device/gemm_tile.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "device/number_format.hpp"

// This file is built with -O3 -ffp-contract=off (device/CMakeLists.txt):
// the products and sums must stay separate fp32 operations so that a
// verifier recomputes the same bits.

namespace kiln::device {
namespace {

// The largest value below 2 with every mantissa bit of the dtype set
// (1.11…1b): next to -1.0 (mantissa all zero, sign set) it toggles the sign
// and every mantissa bit between neighbouring elements.
float max_toggle_high(DType dtype) { return 2.0f - std::ldexp(1.0f, -mantissa_bits(dtype)); }

void fill_inputs(const GemmWork& work, SimRandom& rng, GemmTile& tile) {
  const std::size_t depth = static_cast<std::size_t>(tile.depth);
  const std::size_t rows = static_cast<std::size_t>(tile.rows);
  const std::size_t cols = static_cast<std::size_t>(tile.cols);
  switch (work.data) {
    case DataKind::random:
      // a first, then b, row by row: the draw order is part of determinism.
      for (float& x : tile.a) x = rng.uniform_pm1();
      for (float& x : tile.b) x = rng.uniform_pm1();
      round_to_dtype(tile.a, work.dtype);
      round_to_dtype(tile.b, work.dtype);
      break;
    case DataKind::ones:
      std::fill(tile.a.begin(), tile.a.end(), 1.0f);
      std::fill(tile.b.begin(), tile.b.end(), 1.0f);
      break;
    case DataKind::max_toggle: {
      // Checkerboards of opposite phase in a and b.
      const float high = round_to_dtype(max_toggle_high(work.dtype), work.dtype);
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t p = 0; p < depth; ++p) tile.a[i * depth + p] = (i + p) % 2 == 0 ? high : -1.0f;
      }
      for (std::size_t p = 0; p < depth; ++p) {
        for (std::size_t j = 0; j < cols; ++j) tile.b[p * cols + j] = (p + j) % 2 == 0 ? -1.0f : high;
      }
      break;
    }
  }
}

}  // namespace

void make_gemm_tile(const Sku& sku, const GemmWork& work, SimRandom& rng, GemmTile& tile) {
  tile.pe_rows = sku.pe_rows;
  tile.pe_cols = sku.pe_cols;
  tile.rows = sku.pe_rows;
  tile.cols = sku.cores * sku.pe_cols;
  tile.depth = static_cast<int>(std::clamp<std::int64_t>(work.k, 1, kTileMaxDepth));
  const auto rows = static_cast<std::size_t>(tile.rows);
  const auto cols = static_cast<std::size_t>(tile.cols);
  const auto depth = static_cast<std::size_t>(tile.depth);
  tile.a.resize(rows * depth);
  tile.b.resize(depth * cols);
  tile.c.resize(rows * cols);
  fill_inputs(work, rng, tile);
  compute_gemm_tile(tile);
}

void compute_gemm_tile(GemmTile& tile) {
  const auto rows = static_cast<std::size_t>(tile.rows);
  const auto cols = static_cast<std::size_t>(tile.cols);
  const auto depth = static_cast<std::size_t>(tile.depth);
  // Register blocking: kLanes output elements of one row are accumulated in
  // registers over all p, then stored once; the column block of b (depth ×
  // kLanes floats, ≤ 2 KiB) stays in L1 across all rows. Each element still
  // sees its products in order p = 0, 1, … as a separate multiply and add;
  // vector lanes are independent elements, so nothing is reassociated and
  // the result is bit-identical to tile_reference_element().
  constexpr std::size_t kLanes = 32;
  std::size_t j0 = 0;
  for (; j0 + kLanes <= cols; j0 += kLanes) {
    for (std::size_t i = 0; i < rows; ++i) {
      const float* __restrict a_row = tile.a.data() + i * depth;
      float acc[kLanes] = {};
      for (std::size_t p = 0; p < depth; ++p) {
        const float a_ip = a_row[p];
        const float* __restrict b_row = tile.b.data() + p * cols + j0;
        for (std::size_t j = 0; j < kLanes; ++j) {
          const float product = a_ip * b_row[j];
          acc[j] = acc[j] + product;
        }
      }
      float* __restrict c_row = tile.c.data() + i * cols + j0;
      for (std::size_t j = 0; j < kLanes; ++j) c_row[j] = acc[j];
    }
  }
  // Columns left over when cols is not a multiple of kLanes.
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = j0; j < cols; ++j) {
      tile.c[i * cols + j] = tile_reference_element(tile, static_cast<int>(i), static_cast<int>(j));
    }
  }
}

void apply_flips(GemmTile& tile, std::span<const TileFlip> flips) {
  for (const TileFlip& f : flips) {
    if (f.element < tile.c.size()) tile.c[f.element] = flip_bit(tile.c[f.element], f.bit);
  }
}

float tile_reference_element(const GemmTile& tile, int i, int j) {
  const auto cols = static_cast<std::size_t>(tile.cols);
  const auto depth = static_cast<std::size_t>(tile.depth);
  float sum = 0.0f;
  for (std::size_t p = 0; p < depth; ++p) {
    const float product =
        tile.a[static_cast<std::size_t>(i) * depth + p] * tile.b[p * cols + static_cast<std::size_t>(j)];
    sum = sum + product;
  }
  return sum;
}

}  // namespace kiln::device
