#pragma once
// The shmoo pattern's grid: which voltage × clock point a moment of the
// step belongs to, and what each point showed. The step's duration is split
// evenly over the points, voltages outer and clocks inner (ascending as the
// plan lists them), so a run visits the grid row by row.

#include <cstddef>
#include <string>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::agent {

enum class PointOutcome { not_run, pass, fail, refused };

class ShmooSweep {
 public:
  ShmooSweep(std::vector<double> voltages_mv, std::vector<double> clocks_mhz, double duration_s);

  std::size_t size() const { return outcomes_.size(); }
  double voltage_mv(std::size_t point) const { return voltages_[point / clocks_.size()]; }
  double clock_mhz(std::size_t point) const { return clocks_[point % clocks_.size()]; }

  // The point that step time `t_s` falls in (the last one at or past the end).
  std::size_t point_at(double t_s) const;
  // Step time from `t_s` to the start of the next point (infinity in the last).
  double to_next_point(double t_s) const;

  PointOutcome outcome(std::size_t point) const { return outcomes_[point]; }
  // A point that ran stays failed once it failed; refused is final.
  void mark(std::size_t point, PointOutcome outcome);
  std::size_t failures() const;
  std::size_t refused() const;

  // One line: "mV\MHz 1200 1600 | 700 .X | 750 .. " with '.' pass, 'X' fail,
  // '-' refused by the chip, '?' not run.
  std::string map_text() const;
  // The map as the wire carries it (kiln.v1.ShmooResult).
  void write_to(kiln::v1::ShmooResult& out) const;

 private:
  std::vector<double> voltages_;
  std::vector<double> clocks_;
  double point_s_ = 0;
  std::vector<PointOutcome> outcomes_;
};

}  // namespace kiln::agent
