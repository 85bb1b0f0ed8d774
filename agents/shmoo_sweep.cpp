#include "agents/shmoo_sweep.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace kiln::agent {

ShmooSweep::ShmooSweep(std::vector<double> voltages_mv, std::vector<double> clocks_mhz, double duration_s)
    : voltages_(std::move(voltages_mv)), clocks_(std::move(clocks_mhz)) {
  if (voltages_.empty()) voltages_.push_back(0);
  if (clocks_.empty()) clocks_.push_back(0);
  outcomes_.assign(voltages_.size() * clocks_.size(), PointOutcome::not_run);
  point_s_ = duration_s / static_cast<double>(outcomes_.size());
}

std::size_t ShmooSweep::point_at(double t_s) const {
  if (point_s_ <= 0 || !(t_s > 0)) return 0;
  // A hair of tolerance so that a tick cut exactly at a boundary lands in
  // the next point despite rounding.
  const double index = std::floor(t_s / point_s_ + 1e-9);
  return std::min(static_cast<std::size_t>(index), outcomes_.size() - 1);
}

double ShmooSweep::to_next_point(double t_s) const {
  const std::size_t point = point_at(t_s);
  if (point + 1 >= outcomes_.size()) return std::numeric_limits<double>::infinity();
  return std::max(0.0, static_cast<double>(point + 1) * point_s_ - t_s);
}

void ShmooSweep::mark(std::size_t point, PointOutcome outcome) {
  PointOutcome& current = outcomes_[point];
  if (current == PointOutcome::refused || current == PointOutcome::fail) return;
  current = outcome;
}

std::size_t ShmooSweep::failures() const {
  return static_cast<std::size_t>(std::count(outcomes_.begin(), outcomes_.end(), PointOutcome::fail));
}

std::size_t ShmooSweep::refused() const {
  return static_cast<std::size_t>(std::count(outcomes_.begin(), outcomes_.end(), PointOutcome::refused));
}

std::string ShmooSweep::map_text() const {
  std::string out = "mV\\MHz";
  for (double c : clocks_) out += fmt::format(" {}", c);
  for (std::size_t v = 0; v < voltages_.size(); ++v) {
    out += fmt::format(" | {} ", voltages_[v]);
    for (std::size_t c = 0; c < clocks_.size(); ++c) {
      switch (outcomes_[v * clocks_.size() + c]) {
        case PointOutcome::pass: out += '.'; break;
        case PointOutcome::fail: out += 'X'; break;
        case PointOutcome::refused: out += '-'; break;
        case PointOutcome::not_run: out += '?'; break;
      }
    }
  }
  return out;
}

void ShmooSweep::write_to(kiln::v1::ShmooResult& out) const {
  out.Clear();
  for (double v : voltages_) out.add_voltages_mv(v);
  for (double c : clocks_) out.add_clocks_mhz(c);
  for (PointOutcome o : outcomes_) {
    switch (o) {
      case PointOutcome::pass: out.add_outcomes(kiln::v1::SHMOO_PASS); break;
      case PointOutcome::fail: out.add_outcomes(kiln::v1::SHMOO_FAIL); break;
      case PointOutcome::refused: out.add_outcomes(kiln::v1::SHMOO_REFUSED); break;
      case PointOutcome::not_run: out.add_outcomes(kiln::v1::SHMOO_NOT_RUN); break;
    }
  }
}

}  // namespace kiln::agent
