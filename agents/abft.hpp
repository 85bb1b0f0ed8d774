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

// Multiplier on the rounding-error bound. The bound itself is rigorous:
// a sequentially accumulated fp32 dot product of `depth` products is off by
// at most γ_depth·Σ|a||b| with γ_depth ≈ depth·2^-24 (Higham, Accuracy and
// Stability, §3.1), and abft_tolerance uses eps = 2^-23 (twice that unit
// roundoff) times (depth + n), where n is the number of elements summed by
// the checksum. Clean data can therefore never exceed it, whatever the
// data; 1.0 keeps detection as sharp as the bound allows.
inline constexpr double kAbftSafety = 1.0;
// fp32 machine epsilon: the accumulation is always fp32, whatever the
// input dtype (inputs are already rounded to it).
inline constexpr double kAbftEps = 1.0 / 8388608.0;  // 2^-23
// Work cap for exact recomputation per tile, in multiply-adds. A tile with
// corruption everywhere (a margin fault) is reported unlocalized rather
// than recomputed in full.
inline constexpr std::int64_t kAbftRecomputeBudget = std::int64_t{1} << 25;

// tol = kAbftSafety · eps · (depth + n) · (Σ|a||b| + n·depth·denorm_min).
// `abs_sum` is Σ over the row or column of Σ_p |a||b|; the denorm_min term
// covers products and sums that underflow, where relative bounds fail.
double abft_tolerance(int depth, int n, double abs_sum);

// The element exactly as the chip computes it (device/chip.hpp).
float recompute_element(const device::GemmTile& tile, int row, int col);

// invalid_argument when the tile's dimensions and vectors do not agree, or
// its inputs are not finite. `recompute_budget` in multiply-adds.
Result<AbftReport> verify_abft(const device::GemmTile& tile, std::int64_t recompute_budget = kAbftRecomputeBudget);

}  // namespace kiln::agent
