#pragma once
// A chip's drift as the dashboard draws it (docs/lifecycle.md, "Drift"):
// for each figure that ages (gemm_tflops[bf16], hbm_gbps, c_per_w[bf16],
// hbm_ce_per_hour) its value in each judged run, oldest first, and whether
// it drifted past the policy's threshold against the chip's own history or
// its SKU's peers. Read from the CHIP answer's lifecycle.drift. Qt-free.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace kiln::gui {

struct DriftPoint {
  std::uint64_t run_id = 0;
  double value = 0;
};

struct DriftFigure {
  std::string name;
  std::vector<DriftPoint> points;  // oldest run first
  bool alarm = false;              // against its own history or its peers
  std::string reason;              // the finding that alarmed, else the history's
  // The value of point `i` as a change from the first point, in percent;
  // none when the first value is 0 (a count that started at nothing).
  std::optional<double> percent_change(std::size_t i) const;
};

struct DriftTrend {
  bool alarm = false;
  std::vector<DriftFigure> figures;  // by name
  // From the CHIP query's JSON; a chip without drift data gives no figures.
  static Result<DriftTrend> from_chip_json(const std::string& text);
};

}  // namespace kiln::gui
