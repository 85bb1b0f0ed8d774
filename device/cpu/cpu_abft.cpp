#include "device/cpu/cpu_abft.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <cblas.h>

namespace kiln::device {
namespace {

constexpr double kUnitRoundoff = 1.0 / 16777216.0;  // 2^-24
// Candidates recomputed per GEMM at most (each costs k multiply-adds).
constexpr std::size_t kMaxCandidates = 16384;

int highest_differing_bit(float expected, float actual) {
  const auto x = std::bit_cast<std::uint32_t>(expected) ^ std::bit_cast<std::uint32_t>(actual);
  return x == 0 ? -1 : 31 - std::countl_zero(x);
}

}  // namespace

CpuAbft::CpuAbft(const float* a, const float* b, std::int64_t m, std::int64_t n, std::int64_t k, bool correlated,
                 ChecksumPass pass)
    : a_(a), b_(b), m_(m), n_(n), k_(k) {
  const auto M = static_cast<std::size_t>(m), N = static_cast<std::size_t>(n), K = static_cast<std::size_t>(k);
  // Σ_i A[i][p] and Σ_i |A[i][p]| per p; Σ_j B[p][j] and Σ_j |B[p][j]| per p.
  std::vector<double> a_col(K, 0), a_col_abs(K, 0), b_row(K, 0), b_row_abs(K, 0);
  for (std::size_t i = 0; i < M; ++i) {
    const float* row = a + i * K;
    for (std::size_t p = 0; p < K; ++p) {
      a_col[p] += row[p];
      a_col_abs[p] += std::fabs(row[p]);
    }
  }
  for (std::size_t p = 0; p < K; ++p) {
    const float* row = b + p * N;
    for (std::size_t j = 0; j < N; ++j) {
      b_row[p] += row[j];
      b_row_abs[p] += std::fabs(row[j]);
    }
  }
  col_ref_.assign(N, 0);
  std::vector<double> col_abs(N, 0);
  for (std::size_t p = 0; p < K; ++p) {
    const float* row = b + p * N;
    for (std::size_t j = 0; j < N; ++j) {
      col_ref_[j] += a_col[p] * row[j];
      col_abs[j] += a_col_abs[p] * std::fabs(row[j]);
    }
  }
  row_ref_.assign(M, 0);
  std::vector<double> row_abs(M, 0);
  for (std::size_t i = 0; i < M; ++i) {
    const float* row = a + i * K;
    double s = 0, s_abs = 0;
    for (std::size_t p = 0; p < K; ++p) {
      s += row[p] * b_row[p];
      s_abs += std::fabs(row[p]) * b_row_abs[p];
    }
    row_ref_[i] = s;
    row_abs[i] = s_abs;
  }
  // tol = λ·u·k·mean|a·b|·√count, mean|a·b| = abs_sum / (count·k); the
  // denorm term keeps an all-zero row from having no tolerance at all.
  const auto tol = [&](double abs_sum, double count) {
    // abs_sum = count·k·mean|a·b|: independent errors add up to a √count share of it.
    return kCpuAbftLambda * kUnitRoundoff * (correlated ? abs_sum : abs_sum / std::sqrt(count)) + 1e-30;
  };
  col_tol_.resize(N);
  for (std::size_t j = 0; j < N; ++j) col_tol_[j] = tol(col_abs[j], static_cast<double>(M));
  row_tol_.resize(M);
  for (std::size_t i = 0; i < M; ++i) row_tol_[i] = tol(row_abs[i], static_cast<double>(N));
  col_got_.resize(N);
  row_got_.resize(M);
  // fp32 sums are exact enough for random data only (see the header).
  use_blas_sums_ = pass == ChecksumPass::openblas_gemv && !correlated;
  if (use_blas_sums_) {
    ones_.assign(std::max(M, N), 1.0f);
    row_sums_f_.resize(M);
    col_sums_f_.resize(N);
  }
}

void CpuAbft::sum_rows(const float* c, std::size_t first, std::size_t last, double* col) const {
  const auto N = static_cast<std::size_t>(n_);
  for (std::size_t i = first; i < last; ++i) {
    const float* row = c + i * N;
    double s = 0;
    // The order of a checksum's additions does not matter (its rounding is
    // far inside the tolerance), so let the compiler vectorize the sum.
#pragma omp simd reduction(+ : s)
    for (std::size_t j = 0; j < N; ++j) {
      s += row[j];
      col[j] += row[j];
    }
    row_got_[i] = s;
  }
}

double CpuAbft::element(std::int64_t i, std::int64_t j, double* abs_sum) const {
  double s = 0, s_abs = 0;
  for (std::int64_t p = 0; p < k_; ++p) {
    const double prod = static_cast<double>(a_[i * k_ + p]) * b_[p * n_ + j];
    s += prod;
    s_abs += std::fabs(prod);
  }
  *abs_sum = s_abs;
  return s;
}

void CpuAbft::verify(const float* c, GemmCheck& check) const {
  const auto M = static_cast<std::size_t>(m_), N = static_cast<std::size_t>(n_);
  if (use_blas_sums_) {
    // OpenBLAS's gemv with a ones vector: vectorized and threaded like the
    // GEMM. fp32 sums are far inside the tolerance for random data.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(m_), static_cast<int>(n_), 1.0f, c, static_cast<int>(n_),
                ones_.data(), 1, 0.0f, row_sums_f_.data(), 1);
    cblas_sgemv(CblasRowMajor, CblasTrans, static_cast<int>(m_), static_cast<int>(n_), 1.0f, c, static_cast<int>(n_),
                ones_.data(), 1, 0.0f, col_sums_f_.data(), 1);
    for (std::size_t i = 0; i < M; ++i) row_got_[i] = row_sums_f_[i];
    for (std::size_t j = 0; j < N; ++j) col_got_[j] = col_sums_f_[j];
  } else {
    std::fill(col_got_.begin(), col_got_.end(), 0.0);
    sum_rows(c, 0, M, col_got_.data());
  }
  std::vector<std::int64_t> bad_rows, bad_cols;
  double worst = 0;
  for (std::size_t j = 0; j < N; ++j) {
    const double ratio = std::fabs(col_got_[j] - col_ref_[j]) / col_tol_[j];
    // !(ratio <= 1) so that NaN and infinity count as bad.
    if (!(ratio <= 1))
      bad_cols.push_back(static_cast<std::int64_t>(j));
    else
      worst = std::max(worst, ratio);
  }
  for (std::size_t i = 0; i < M; ++i) {
    const double ratio = std::fabs(row_got_[i] - row_ref_[i]) / row_tol_[i];
    if (!(ratio <= 1))
      bad_rows.push_back(static_cast<std::int64_t>(i));
    else
      worst = std::max(worst, ratio);
  }
  last_worst_ratio_ = worst;
  ++check.gemms_checked;
  if (bad_rows.empty() && bad_cols.empty()) return;

  // A flip just over one checksum's tolerance may stay under the other's:
  // then search the bad line against every element of the other dimension.
  std::vector<std::int64_t> rows = bad_rows, cols = bad_cols;
  if (rows.empty()) {
    for (std::int64_t i = 0; i < m_; ++i) rows.push_back(i);
  }
  if (cols.empty()) {
    for (std::int64_t j = 0; j < n_; ++j) cols.push_back(j);
  }
  std::uint64_t found = 0;
  if (rows.size() * cols.size() <= kMaxCandidates) {
    for (const std::int64_t i : rows) {
      for (const std::int64_t j : cols) {
        double abs_sum = 0;
        const double expected = element(i, j, &abs_sum);
        const float actual = c[static_cast<std::size_t>(i) * N + static_cast<std::size_t>(j)];
        // The per-element form of the checksums' bound (λ·u·k·mean|a·b|).
        const double bound = kCpuAbftLambda * kUnitRoundoff * abs_sum + 1e-30;
        if (std::fabs(actual - expected) <= bound) continue;
        ++found;
        ++check.corrupted;
        if (check.corruptions.size() < kMaxReportedCorruptions) {
          const auto rounded = static_cast<float>(expected);
          check.corruptions.push_back(GemmCorruption{i, j, highest_differing_bit(rounded, actual), rounded, actual});
        }
      }
    }
  }
  if (found == 0) ++check.unlocalized;
}

}  // namespace kiln::device
