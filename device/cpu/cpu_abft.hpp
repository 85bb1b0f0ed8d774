#pragma once
// ABFT (Huang & Abraham) over a whole fp32 GEMM output, for backends whose
// GEMM is a library call (OpenBLAS, oneDNN) that blocks, vectorizes and
// fuses its accumulation as it likes, so no element can be recomputed bit
// for bit (contrast agents/abft.hpp, for the simulated chip's tile).
//
// The inputs of a step do not change between its GEMMs, so the reference
// checksums are computed once, in double, from A and B:
//   column j:  Σ_p (Σ_i A[i][p]) · B[p][j]      row i:  Σ_p A[i][p] · (Σ_j B[p][j])
// and each GEMM costs only one pass over C (its row and column sums, in
// double): O(m·n) against the GEMM's O(m·n·k).
//
// Tolerance. Each element of C carries a rounding error of at most
// k·u·Σ_p|a·b| (u = 2^-24, fp32 accumulation; Higham §3.1), and the errors
// of the elements a checksum adds are independent, so they grow like a
// random walk over them: tol = λ · u · k · mean|a·b| · √(elements summed),
// with mean|a·b| taken from the absolute checksums (Σ|A|·|B|). λ = 8: the
// clean residual of OpenBLAS and oneDNN, measured here from n = 256 to
// 4096 and random, ones and max_toggle data, stays below a fifth of it
// (tests/device/cpu/cpu_backend_test.cpp). A flip is found when it moves its
// element by more than that: the exponent and the upper mantissa bits.
//
// That independence holds for random data. Structured data (ones,
// max_toggle) repeats the same products in every element, so their
// rounding errors are the same and add up linearly: there the tolerance
// takes the count, not its square root (`correlated`).
//
// A bad row and a bad column meet at a candidate, recomputed in double;
// an element off its recomputation by more than its own bound
// (λ·u·Σ_p|a·b|, the same per-element error the checksums assume) is a
// corruption, and its bit is the highest that differs from the rounded
// recomputation.

#include <cstdint>
#include <vector>

#include "device/chip.hpp"

namespace kiln::device {

inline constexpr double kCpuAbftLambda = 8.0;

// How each GEMM's output is summed. OpenBLAS's sgemv (a ones vector) is
// vectorized and threaded on the GEMM's own idle threads: about 2% of an
// n = 1024 GEMM here. After a oneDNN GEMM its OpenMP threads still spin
// and starve OpenBLAS's, so there a vectorized double loop on the calling
// thread is faster. Structured data always takes the double loop: fp32
// sums of identical large values would round where the tolerance expects
// none.
enum class ChecksumPass { openblas_gemv, double_loop };

class CpuAbft {
 public:
  // a: m × k, b: k × n, row-major fp32 (already rounded to the GEMM's dtype).
  CpuAbft(const float* a, const float* b, std::int64_t m, std::int64_t n, std::int64_t k, bool correlated = false,
          ChecksumPass pass = ChecksumPass::double_loop);

  // Checks c (m × n) and adds what it found to `check`.
  void verify(const float* c, GemmCheck& check) const;

  // For tests: the largest clean residual / tolerance ratio of the last verify().
  double last_worst_ratio() const { return last_worst_ratio_; }

 private:
  double element(std::int64_t i, std::int64_t j, double* abs_sum) const;
  // Row sums of rows [first, last) into row_got_, their column sums into `col`.
  void sum_rows(const float* c, std::size_t first, std::size_t last, double* col) const;

  const float* a_;
  const float* b_;
  std::int64_t m_, n_, k_;
  std::vector<double> col_ref_, row_ref_, col_tol_, row_tol_;
  mutable std::vector<double> col_got_, row_got_;
  bool use_blas_sums_ = false;
  std::vector<float> ones_;
  mutable std::vector<float> row_sums_f_, col_sums_f_;
  mutable double last_worst_ratio_ = 0;
};

}  // namespace kiln::device
