#include "agents/abft.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>

namespace kiln::agent {
namespace {

std::size_t at(int row, int col, int stride) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(stride) + static_cast<std::size_t>(col);
}

}  // namespace

Status validate_tile(const device::GemmTile& t) {
  if (t.rows <= 0 || t.cols <= 0 || t.depth <= 0 || t.pe_rows <= 0 || t.pe_cols <= 0) {
    return make_error(ErrorCode::invalid_argument, "tile has empty dimensions ({}x{}x{}, PE array {}x{})", t.rows,
                      t.cols, t.depth, t.pe_rows, t.pe_cols);
  }
  const auto rows = static_cast<std::size_t>(t.rows);
  const auto cols = static_cast<std::size_t>(t.cols);
  const auto depth = static_cast<std::size_t>(t.depth);
  if (t.a.size() != rows * depth || t.b.size() != depth * cols || t.c.size() != rows * cols) {
    return make_error(ErrorCode::invalid_argument, "tile {}x{}x{} has a={} b={} c={} elements", t.rows, t.cols, t.depth,
                      t.a.size(), t.b.size(), t.c.size());
  }
  const auto finite = [](float x) { return std::isfinite(x); };
  if (!std::all_of(t.a.begin(), t.a.end(), finite) || !std::all_of(t.b.begin(), t.b.end(), finite)) {
    return make_error(ErrorCode::invalid_argument, "tile inputs are not all finite");
  }
  return {};
}

namespace {

// Row and column checksums with their tolerances; `bad_*` lists the indices
// that disagree.
struct Checksums {
  std::vector<int> bad_rows;
  std::vector<int> bad_cols;
};

Checksums compute_checksums(const device::GemmTile& t) {
  const int rows = t.rows, cols = t.cols, depth = t.depth;
  const bool exact = products_are_exact(t);
  // Σ_i A[i][p] and Σ_i |A[i][p]| per p; Σ_j B[p][j] and Σ_j |B[p][j]| per p.
  std::vector<double> a_sum(static_cast<std::size_t>(depth), 0.0), a_abs(static_cast<std::size_t>(depth), 0.0);
  std::vector<double> b_sum(static_cast<std::size_t>(depth), 0.0), b_abs(static_cast<std::size_t>(depth), 0.0);
  for (int i = 0; i < rows; ++i) {
    for (int p = 0; p < depth; ++p) {
      const double v = t.a[at(i, p, depth)];
      a_sum[static_cast<std::size_t>(p)] += v;
      a_abs[static_cast<std::size_t>(p)] += std::fabs(v);
    }
  }
  for (int p = 0; p < depth; ++p) {
    for (int j = 0; j < cols; ++j) {
      const double v = t.b[at(p, j, cols)];
      b_sum[static_cast<std::size_t>(p)] += v;
      b_abs[static_cast<std::size_t>(p)] += std::fabs(v);
    }
  }

  Checksums out;
  // Columns: reference and magnitude from A's column sums and B.
  std::vector<double> col_ref(static_cast<std::size_t>(cols), 0.0), col_mag(static_cast<std::size_t>(cols), 0.0);
  for (int p = 0; p < depth; ++p) {
    const double s = a_sum[static_cast<std::size_t>(p)];
    const double m = a_abs[static_cast<std::size_t>(p)];
    for (int j = 0; j < cols; ++j) {
      const double v = t.b[at(p, j, cols)];
      col_ref[static_cast<std::size_t>(j)] += s * v;
      col_mag[static_cast<std::size_t>(j)] += m * std::fabs(v);
    }
  }
  std::vector<double> col_got(static_cast<std::size_t>(cols), 0.0);
  std::vector<double> row_got(static_cast<std::size_t>(rows), 0.0);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      const double v = t.c[at(i, j, cols)];
      col_got[static_cast<std::size_t>(j)] += v;
      row_got[static_cast<std::size_t>(i)] += v;
    }
  }
  for (int j = 0; j < cols; ++j) {
    const auto k = static_cast<std::size_t>(j);
    // Written as !(diff <= tol) so that a NaN or infinite C counts as bad.
    if (!(std::fabs(col_got[k] - col_ref[k]) <= abft_tolerance(depth, rows, col_mag[k], exact)))
      out.bad_cols.push_back(j);
  }
  for (int i = 0; i < rows; ++i) {
    double ref = 0, mag = 0;
    for (int p = 0; p < depth; ++p) {
      const double v = t.a[at(i, p, depth)];
      ref += v * b_sum[static_cast<std::size_t>(p)];
      mag += std::fabs(v) * b_abs[static_cast<std::size_t>(p)];
    }
    const auto k = static_cast<std::size_t>(i);
    if (!(std::fabs(row_got[k] - ref) <= abft_tolerance(depth, cols, mag, exact))) out.bad_rows.push_back(i);
  }
  return out;
}

// Recomputes candidates within the work budget and records those whose bits
// differ.
class Localizer {
 public:
  Localizer(const device::GemmTile& tile, std::int64_t budget)
      : tile_(tile),
        budget_(budget),
        checked_(static_cast<std::size_t>(tile.rows) * static_cast<std::size_t>(tile.cols), false),
        row_found_(static_cast<std::size_t>(tile.rows), false),
        col_found_(static_cast<std::size_t>(tile.cols), false) {}

  // False once the budget is spent.
  bool check(int row, int col) {
    const std::size_t k = at(row, col, tile_.cols);
    if (checked_[k]) return true;
    if (budget_ < tile_.depth) return false;
    budget_ -= tile_.depth;
    checked_[k] = true;
    const float expected = recompute_element(tile_, row, col);
    const float actual = tile_.c[k];
    const auto diff = std::bit_cast<std::uint32_t>(expected) ^ std::bit_cast<std::uint32_t>(actual);
    if (diff == 0) return true;
    AbftFinding f;
    f.row = row;
    f.col = col;
    f.core = col / tile_.pe_cols;
    f.pe_row = row;
    f.pe_col = col % tile_.pe_cols;
    f.bit = 31 - std::countl_zero(diff);
    f.expected = expected;
    f.actual = actual;
    findings_.push_back(f);
    row_found_[static_cast<std::size_t>(row)] = true;
    col_found_[static_cast<std::size_t>(col)] = true;
    return true;
  }

  // True when every element of the row (column) was recomputed.
  bool row_searched(int row) const {
    for (int j = 0; j < tile_.cols; ++j) {
      if (!checked_[at(row, j, tile_.cols)]) return false;
    }
    return true;
  }
  bool col_searched(int col) const {
    for (int i = 0; i < tile_.rows; ++i) {
      if (!checked_[at(i, col, tile_.cols)]) return false;
    }
    return true;
  }

  bool row_found(int row) const { return row_found_[static_cast<std::size_t>(row)]; }
  bool col_found(int col) const { return col_found_[static_cast<std::size_t>(col)]; }
  std::vector<AbftFinding> take_findings() {
    std::sort(findings_.begin(), findings_.end(), [](const AbftFinding& x, const AbftFinding& y) {
      return x.row != y.row ? x.row < y.row : x.col < y.col;
    });
    return std::move(findings_);
  }

 private:
  const device::GemmTile& tile_;
  std::int64_t budget_;
  std::vector<bool> checked_;
  std::vector<bool> row_found_;
  std::vector<bool> col_found_;
  std::vector<AbftFinding> findings_;
};

}  // namespace

double abft_tolerance(int depth, int n, double abs_sum, bool exact_products) {
  const double rounded_ops = exact_products ? std::max(depth - 1, 0) : depth;
  const double ku = rounded_ops * kAbftUnitRoundoff;
  const double gamma = ku / (1.0 - ku);
  // The checksums' own rounding in double, with room to spare.
  const double double_terms = 2.0 * static_cast<double>(n) + 2.0 * static_cast<double>(depth) + 4.0;
  const double checksum_rounding = 2.0 * double_terms * std::ldexp(1.0, -53);
  const double underflow = 2.0 * static_cast<double>(n) * static_cast<double>(depth) *
                           static_cast<double>(std::numeric_limits<float>::denorm_min());
  return (gamma + checksum_rounding) * abs_sum + underflow;
}

bool products_are_exact(const device::GemmTile& tile) {
  // At most 12 significant bits: the 12 low bits of the 23-bit mantissa are zero.
  constexpr std::uint32_t kLowBits = (std::uint32_t{1} << 12) - 1;
  const auto short_significand = [](float x) { return (std::bit_cast<std::uint32_t>(x) & kLowBits) == 0; };
  return std::all_of(tile.a.begin(), tile.a.end(), short_significand) &&
         std::all_of(tile.b.begin(), tile.b.end(), short_significand);
}

float recompute_element(const device::GemmTile& tile, int row, int col) {
  float acc = 0.0f;
  for (int p = 0; p < tile.depth; ++p) {
    // Two statements so that the compiler cannot contract them into an FMA
    // (GCC contracts across an expression with -ffp-contract=fast).
    const volatile float product = tile.a[at(row, p, tile.depth)] * tile.b[at(p, col, tile.cols)];
    acc = acc + product;
  }
  return acc;
}

Result<AbftReport> verify_abft(const device::GemmTile& tile, std::int64_t recompute_budget) {
  KILN_TRY(validate_tile(tile));

  const Checksums sums = compute_checksums(tile);
  AbftReport report;
  report.bad_rows = static_cast<int>(sums.bad_rows.size());
  report.bad_cols = static_cast<int>(sums.bad_cols.size());
  if (sums.bad_rows.empty() && sums.bad_cols.empty()) return report;

  Localizer localizer(tile, recompute_budget);
  bool budget_left = true;
  // 1. Where a bad row meets a bad column.
  for (int i : sums.bad_rows) {
    for (int j : sums.bad_cols) {
      if (budget_left) budget_left = localizer.check(i, j);
    }
  }
  // 2. A small flip may push only one checksum over its tolerance (a row
  // sums many more elements than a column, so its tolerance is wider), and
  // a column may hold a second flip in a row that stayed under it: search
  // every bad column in full (a column is short), then the bad rows that
  // nothing explains yet.
  for (int j : sums.bad_cols) {
    for (int i = 0; i < tile.rows && budget_left; ++i) budget_left = localizer.check(i, j);
  }
  for (int i : sums.bad_rows) {
    if (localizer.row_found(i)) continue;
    for (int j = 0; j < tile.cols && budget_left; ++j) budget_left = localizer.check(i, j);
  }

  // A bad line nothing explains is either out of budget (unlocalized) or
  // was recomputed in full and is correct (its checksum was wrong).
  for (int i : sums.bad_rows) {
    if (localizer.row_found(i)) continue;
    if (localizer.row_searched(i))
      ++report.cleared;
    else
      report.unlocalized = true;
  }
  for (int j : sums.bad_cols) {
    if (localizer.col_found(j)) continue;
    if (localizer.col_searched(j))
      ++report.cleared;
    else
      report.unlocalized = true;
  }
  report.findings = localizer.take_findings();
  return report;
}

}  // namespace kiln::agent
