#pragma once
// Verification tiles of any depth for ABFT tests, filled like the simulator
// fills them (device/gemm_tile.cpp) and computed by the device's own kernel,
// so the tests also check that agent and device agree on the arithmetic.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "device/chip.hpp"
#include "device/gemm_tile.hpp"
#include "device/number_format.hpp"
#include "device/sim_random.hpp"

namespace kiln::agent::testing {

struct TileShape {
  int pe_rows = 32;
  int pe_cols = 32;
  int cores = 4;
  int depth = 16;
};

inline device::GemmTile make_tile(const TileShape& shape, device::DType dtype, device::DataKind data,
                                  std::uint64_t seed = 1) {
  device::GemmTile t;
  t.pe_rows = shape.pe_rows;
  t.pe_cols = shape.pe_cols;
  t.rows = shape.pe_rows;
  t.cols = shape.cores * shape.pe_cols;
  t.depth = shape.depth;
  const auto rows = static_cast<std::size_t>(t.rows);
  const auto cols = static_cast<std::size_t>(t.cols);
  const auto depth = static_cast<std::size_t>(t.depth);
  t.a.resize(rows * depth);
  t.b.resize(depth * cols);
  t.c.resize(rows * cols);
  device::SimRandom rng(seed);
  switch (data) {
    case device::DataKind::random:
      for (float& x : t.a) x = device::round_to_dtype(rng.uniform_pm1(), dtype);
      for (float& x : t.b) x = device::round_to_dtype(rng.uniform_pm1(), dtype);
      break;
    case device::DataKind::ones:
      for (float& x : t.a) x = 1.0f;
      for (float& x : t.b) x = 1.0f;
      break;
    case device::DataKind::max_toggle: {
      const float high = device::round_to_dtype(2.0f - std::ldexp(1.0f, -device::mantissa_bits(dtype)), dtype);
      for (std::size_t i = 0; i < rows; ++i) {
        for (std::size_t p = 0; p < depth; ++p) t.a[i * depth + p] = (i + p) % 2 == 0 ? high : -1.0f;
      }
      for (std::size_t p = 0; p < depth; ++p) {
        for (std::size_t j = 0; j < cols; ++j) t.b[p * cols + j] = (p + j) % 2 == 0 ? -1.0f : high;
      }
      break;
    }
  }
  device::compute_gemm_tile(t);
  return t;
}

inline float& element(device::GemmTile& t, int row, int col) {
  return t.c[static_cast<std::size_t>(row) * static_cast<std::size_t>(t.cols) + static_cast<std::size_t>(col)];
}

}  // namespace kiln::agent::testing
