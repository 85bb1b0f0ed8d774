#pragma once
// Algorithm-based fault tolerance (Huang & Abraham) for the verification tile
// a chip returns with each GEMM slice (device::GemmTile). Pure: a tile in,
// findings out, no chip and no clock.
//
// The checksums compare, in double, the row and column sums of the chip's C
// with the same sums derived from A and B alone:
//   column j:  Σ_i C[i][j]  vs  Σ_p (Σ_i A[i][p]) · B[p][j]
//   row i:     Σ_j C[i][j]  vs  Σ_p A[i][p] · (Σ_j B[p][j])
// A row or column whose sums differ by more than its tolerance (see
// abft_tolerance) holds a corrupted element. Candidates (the intersections
// of bad rows and bad columns, and if that explains nothing, the elements of
// a bad row or column) are then recomputed exactly as the chip computes them
// (device/chip.hpp: p in order, fp32, a*b then +, no FMA) and compared bit
// for bit, so a finding is never a rounding artefact and its bit is exact.

#include <cstdint>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"

namespace kiln::agent {

// One output element whose value differs from the exact recomputation.
struct AbftFinding {
  int row = 0;  // tile coordinates
  int col = 0;
  int core = 0;    // where it was computed: core = col / pe_cols
  int pe_row = 0;  // = row
  int pe_col = 0;  // = col % pe_cols
  int bit = 0;     // highest differing bit of the fp32 patterns (31 = sign, 30..23 exponent, 22..0 mantissa)
  float expected = 0;
  float actual = 0;
};

struct AbftReport {
  std::vector<AbftFinding> findings;  // in row-major order
  int bad_rows = 0;                   // rows whose checksum disagreed
  int bad_cols = 0;                   // columns whose checksum disagreed
  // Checksums disagreed, and the recompute budget ran out before every bad
  // row and column was explained by a finding or searched in full. Still a
  // silent data corruption; its location is unknown.
  bool unlocalized = false;
  // Bad rows or columns that were searched in full and hold no corrupted
  // element: the checksum itself could not be trusted (sums that overflow
  // fp32). Every element there was recomputed, so this is not an SDC.
  int cleared = 0;

  // No corruption found and none suspected.
  bool clean() const { return findings.empty() && !unlocalized; }
};

// The rounding-error bound that separates a corrupted line from a clean
// one, as tight as it can be while staying rigorous (a healthy chip must
// never fail). The chip sums `depth` fp32 products in order (device/chip.hpp),
// so each element is off its exact value by at most γ·Σ_p|a||b| (Higham,
// Accuracy and Stability, §3.1), with γ_k = k·u/(1 − k·u), u = 2^-24:
//  - k = depth − 1 when every product is exact (inputs of at most 12
//    significant bits, as bf16, fp16 and fp8 are: a product then fits
//    fp32's 24) — only the additions after the first round;
//  - k = depth otherwise (fp32 inputs: each product rounds too).
// A line's checksum compares Σ of those elements, so its error is at most
// γ_k times the line's Σ|a||b|. The checksums themselves are summed in
// double; their rounding (≤ (2n + 2·depth + 4)·2^-53 of the same
// magnitude) is added, as is an absolute term for products and sums that
// underflow, where relative bounds fail. What this bound lets through is
// measured per dtype and SKU by bench/abft (docs/verdicts.md): flips of
// low mantissa bits lie below it, which is why the shipped plans also
// compare bit for bit (verify: abft+golden, vote).
inline constexpr double kAbftUnitRoundoff = 1.0 / 16777216.0;  // 2^-24, fp32
// Work cap for exact recomputation per tile, in multiply-adds. A tile with
// corruption everywhere (a margin fault) is reported unlocalized rather
// than recomputed in full.
inline constexpr std::int64_t kAbftRecomputeBudget = std::int64_t{1} << 25;

// The tolerance of a line that sums `n` elements of reduction depth
// `depth`, whose Σ over the line of Σ_p |a||b| is `abs_sum`.
// `exact_products`: every input has at most 12 significant bits.
double abft_tolerance(int depth, int n, double abs_sum, bool exact_products);

// True when every input of the tile has at most 12 significant bits, so
// that each fp32 product a·b is exact.
bool products_are_exact(const device::GemmTile& tile);

// The element exactly as the chip computes it (device/chip.hpp).
float recompute_element(const device::GemmTile& tile, int row, int col);

// invalid_argument when the tile's dimensions and vectors do not agree, or
// its inputs are not finite: a tile from a broken backend, which no
// verification may read further.
Status validate_tile(const device::GemmTile& tile);

// invalid_argument when the tile's dimensions and vectors do not agree, or
// its inputs are not finite (validate_tile). `recompute_budget` in multiply-adds.
Result<AbftReport> verify_abft(const device::GemmTile& tile, std::int64_t recompute_budget = kAbftRecomputeBudget);

}  // namespace kiln::agent
